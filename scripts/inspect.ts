/**
 * `npm run inspect`                      overview of the namespace (REDIS_* and REDIS_KEY_PREFIX as the service
 *                                        reads them; every master of a Cluster)
 * `npm run inspect -- <id> [--owner <owner hash>] [--content]`
 *                                        one session (by any of its response ids, or by its session id with the
 *                                        owner hash: sessions are per tenant), pretty-printed
 * Read-only; SCAN, never KEYS.
 */
import { Logger } from '@nestjs/common';
import { AppConfig, ConfigError } from '@app/config';
import { RedisService } from '@app/redis';
import { CacheInspector, CacheKeys, sessionTagOf } from '@app/session-store';
import { Telemetry } from '@app/telemetry';

function kib(bytes: number | null): string {
  return bytes === null ? '-' : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function overview(inspector: CacheInspector): Promise<void> {
  const [namespace, info] = await Promise.all([inspector.overview(), inspector.info()]);
  const lookups = (info.keyspace_hits ?? 0) + (info.keyspace_misses ?? 0);
  console.log(`Namespace "${namespace.prefix}"${namespace.truncated ? ' (scan bound reached: lower limits)' : ''}`);
  console.log(`  sessions   ${namespace.sessions}`);
  console.log(`  responses  ${namespace.responses}`);
  console.log(`  other keys ${namespace.other}`);
  console.log(
    `  memory     ~${kib(namespace.memory.estimated_bytes)} (from ${namespace.memory.sampled_keys} sampled keys)`,
  );
  console.log('  TTL spread (seconds)');
  for (const [bucket, count] of Object.entries(namespace.ttl_seconds)) console.log(`    ${bucket.padEnd(10)} ${count}`);
  console.log('Redis server');
  console.log(
    `  used memory ${kib(info.used_memory_bytes)} (peak ${kib(info.used_memory_peak_bytes)}, max ${info.maxmemory_bytes ? kib(info.maxmemory_bytes) : 'unlimited'})`,
  );
  console.log(`  eviction    ${info.maxmemory_policy ?? '-'}, ${info.evicted_keys ?? 0} keys evicted`);
  console.log(
    `  hit rate    ${lookups === 0 ? '-' : `${(((info.keyspace_hits ?? 0) / lookups) * 100).toFixed(1)}%`} (server-wide keyspace hits/misses)`,
  );
  for (const warning of info.warnings) console.log(`  WARNING     ${warning}`);
}

async function session(inspector: CacheInspector, id: string, withContent: boolean, owner?: string): Promise<boolean> {
  const tag = sessionTagOf(id, owner);
  if (tag === undefined) {
    console.log(
      `"${id}" is not a response id: name a session by one of its response ids, or add --owner <owner hash>.`,
    );
    return false;
  }
  const view = await inspector.session(tag, withContent);
  if (!view) {
    console.log(`No cached session for "${id}" (expired, evicted, or never cached: PostgreSQL may still have it).`);
    return false;
  }
  console.log(
    `Session ${view.session_id ?? '?'} (tag ${view.tag}): ${view.responses.length} responses, TTL ${view.ttl_seconds}s, ${kib(view.memory_bytes)}`,
  );
  for (const response of view.responses) {
    console.log(
      `\n  ${response.id}  ${response.status}  ${response.model}  TTL ${response.ttl_seconds}s  ${kib(response.memory_bytes)}`,
    );
    console.log(`    created ${response.created_at}, continues ${response.previous_response_id ?? '(root)'}`);
    console.log(
      `    ${response.input_items} input items, ${response.output_items} output items, ${response.total_tokens} tokens`,
    );
    if (response.content) console.log(JSON.stringify(response.content, null, 2).replace(/^/gm, '    '));
  }
  return true;
}

async function main(): Promise<number> {
  Logger.overrideLogger(['error']);
  const args = process.argv.slice(2);
  const withContent = args.includes('--content');
  const ownerAt = args.indexOf('--owner');
  const owner = ownerAt === -1 ? undefined : args[ownerAt + 1];
  const id = args.find((arg, index) => !arg.startsWith('--') && (ownerAt === -1 || index !== ownerAt + 1));
  let config: AppConfig;
  try {
    config = new AppConfig(process.env);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    return 2;
  }
  const redis = new RedisService(config, new Telemetry());
  await redis.onModuleInit();
  try {
    if (!redis.isReady) {
      console.error(`Cannot reach Redis at ${redis.target}: ${redis.stats().lastError ?? 'not connected'}`);
      return 1;
    }
    const inspector = new CacheInspector(redis.client, new CacheKeys(config.redisKeyPrefix));
    if (id === undefined) {
      await overview(inspector);
      return 0;
    }
    return (await session(inspector, id, withContent, owner)) ? 0 : 1;
  } finally {
    await redis.onApplicationShutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
