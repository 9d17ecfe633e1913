import Redis from 'ioredis';
import { Client } from 'pg';
import { uniquePrefix } from './support/gateway';
import { startMockLlm } from './support/mock-llm';
import { freePort, OwnRedisServer } from './support/redis-server';
import { NodeProcess } from './support/process';

const GATEWAY = 'dist/apps/gateway/src/main.js';

describe('the built gateway process', () => {
  it('exits at once with a message naming DATABASE_URL when it is malformed, never echoing the password', async () => {
    const gateway = NodeProcess.start(GATEWAY, { DATABASE_URL: 'mysql://app:hunter2@db/app', PORT: '0' });
    expect(await gateway.exitCode()).toBe(1);
    expect(gateway.output).toContain(
      'Invalid configuration: DATABASE_URL must start with postgresql:// or postgres://',
    );
    expect(gateway.output).not.toContain('hunter2');
  });

  it('starts with Redis stopped, logs the problem once, serves ready as degraded and stops cleanly on SIGTERM', async () => {
    const redis = await OwnRedisServer.start();
    await redis.stop();
    const port = await freePort();
    const gateway = NodeProcess.start(GATEWAY, {
      REDIS_URL: redis.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      await gateway.waitFor(/Listening on/);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'degraded' });
      expect(gateway.output.match(/Redis unavailable/g)).toHaveLength(1);
    } finally {
      expect(await gateway.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
    expect(gateway.output).toMatch(/Received SIGTERM, shutting down[\s\S]*Shutdown complete/);
  });

  it('logs the effective Redis target with the password redacted and warns about a URL without password', async () => {
    const port = await freePort();
    const gateway = NodeProcess.start(GATEWAY, {
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_PASSWORD: 'hunter2',
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      await gateway.waitFor(/Listening on/);
      expect(gateway.output).toContain('REDIS_URL has no password but REDIS_PASSWORD is set: REDIS_PASSWORD is used');
      expect(gateway.output).toContain('redis://:***@127.0.0.1:1/0');
      expect(gateway.output).toContain('password from REDIS_PASSWORD');
      expect(gateway.output).not.toContain('hunter2');
    } finally {
      await gateway.stop('SIGTERM');
    }
  });

  it('writes every queued spend-log row to PostgreSQL on SIGTERM, long before the flush interval, and retires its journal', async () => {
    const mock = await startMockLlm();
    const port = await freePort();
    const prefix = uniquePrefix();
    const gateway = NodeProcess.start(GATEWAY, {
      PORT: String(port),
      HOST: '127.0.0.1',
      UPSTREAM_BASE_URL: mock.baseUrl,
      SPEND_LOG_FLUSH_INTERVAL_MS: '600000',
      REDIS_KEY_PREFIX: prefix,
      SHUTDOWN_DELAY_MS: '0',
    });
    const redis = new Redis(process.env.REDIS_URL as string);
    const journalKeys = async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        keys.push(...batch.filter((key) => /:journals$|:\{j:/.test(key)));
        cursor = next;
      } while (cursor !== '0');
      return keys;
    };
    const pg = new Client({ connectionString: process.env.DATABASE_URL });
    try {
      await gateway.waitFor(/Listening on/);
      const ids: string[] = [];
      for (const input of ['one', 'two', 'three']) {
        const response = await fetch(`http://127.0.0.1:${port}/v1/responses`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-shutdown' },
          body: JSON.stringify({ model: 'mock-gpt', input }),
        });
        ids.push(((await response.json()) as { id: string }).id);
      }
      await pg.connect();
      const before = await pg.query('SELECT id FROM responses WHERE id = ANY($1)', [ids]);
      expect(before.rowCount).toBe(0);
      expect(await journalKeys()).not.toHaveLength(0);

      expect(await gateway.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      const after = await pg.query('SELECT id FROM responses WHERE id = ANY($1)', [ids]);
      expect(after.rowCount).toBe(3);
      expect(gateway.output).toMatch(/Shutdown complete/);
      // Everything was written: nothing is left for another replica to recover.
      expect(await journalKeys()).toEqual([]);
    } finally {
      await gateway.stop('SIGKILL');
      redis.disconnect();
      await pg.end();
      await mock.close();
    }
  });
});
