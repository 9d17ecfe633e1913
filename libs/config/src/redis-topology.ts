import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error';
import { booleanFrom, Env, readEnv } from './env-parsers';

export interface HostPort {
  host: string;
  port: number;
}

/** Which Redis deployment the service talks to; credentials and TLS of the data nodes are in RedisTarget. */
export type RedisTopology =
  | { kind: 'standalone' }
  | {
      kind: 'cluster';
      /** Seed nodes; the client discovers the rest (CLUSTER SLOTS). */
      nodes: HostPort[];
      /** Addresses the cluster announces → addresses this service reaches them at (managed services, NAT). */
      natMap: Record<string, HostPort>;
    }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      masterName: string;
      /** The sentinels' own credentials (often different from the data nodes'). */
      username?: string;
      password?: string;
      tls: boolean;
    };

/** TLS settings beyond on/off: files are read at start, so a wrong path fails start-up. */
export interface RedisTlsSettings {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  serverName?: string;
  /** Off only with REDIS_TLS_INSECURE_SKIP_VERIFY (development): any certificate is accepted. */
  verify: boolean;
}

const TLS_VARIABLES = [
  'REDIS_TLS_CA_FILE',
  'REDIS_TLS_CERT_FILE',
  'REDIS_TLS_KEY_FILE',
  'REDIS_TLS_SERVERNAME',
  'REDIS_TLS_INSECURE_SKIP_VERIFY',
];

/**
 * REDIS_CLUSTER_NODES (seeds) or REDIS_SENTINELS with REDIS_SENTINEL_MASTER; neither: one node at the
 * target's host and port. `dataTls` is whether the data nodes use TLS (the sentinels' default).
 */
export function resolveRedisTopology(env: Env, dataTls: boolean): RedisTopology {
  const clusterNodes = readEnv(env, 'REDIS_CLUSTER_NODES');
  const sentinels = readEnv(env, 'REDIS_SENTINELS');
  if (clusterNodes !== undefined && sentinels !== undefined) {
    throw new ConfigError('REDIS_SENTINELS', 'cannot be combined with REDIS_CLUSTER_NODES: choose one topology');
  }
  if (clusterNodes !== undefined) {
    return {
      kind: 'cluster',
      nodes: hostPortList(clusterNodes, 'REDIS_CLUSTER_NODES', 6379),
      natMap: natMapFrom(env),
    };
  }
  if (readEnv(env, 'REDIS_CLUSTER_NAT_MAP') !== undefined) {
    throw new ConfigError('REDIS_CLUSTER_NAT_MAP', 'needs REDIS_CLUSTER_NODES (it applies to Cluster mode only)');
  }
  if (sentinels !== undefined) {
    const masterName = readEnv(env, 'REDIS_SENTINEL_MASTER');
    if (masterName === undefined) {
      throw new ConfigError(
        'REDIS_SENTINEL_MASTER',
        'is required with REDIS_SENTINELS: the name the sentinels monitor',
      );
    }
    const password = env.REDIS_SENTINEL_PASSWORD;
    return {
      kind: 'sentinel',
      sentinels: hostPortList(sentinels, 'REDIS_SENTINELS', 26379),
      masterName,
      username: readEnv(env, 'REDIS_SENTINEL_USERNAME'),
      password: password === undefined || password === '' ? undefined : password,
      tls: booleanFrom(env, 'REDIS_SENTINEL_TLS') ?? dataTls,
    };
  }
  for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD']) {
    if (readEnv(env, name) !== undefined) throw new ConfigError(name, 'needs REDIS_SENTINELS');
  }
  return { kind: 'standalone' };
}

/** The TLS files and options; setting any of them while TLS is off is a mistake worth stopping for. */
export function resolveRedisTls(env: Env, tls: boolean): RedisTlsSettings {
  const given = TLS_VARIABLES.find((name) => readEnv(env, name) !== undefined);
  if (given !== undefined && !tls) {
    throw new ConfigError(given, 'is set but TLS is off: use a rediss:// REDIS_URL or REDIS_TLS=true');
  }
  const caFile = readEnv(env, 'REDIS_TLS_CA_FILE');
  const certFile = readEnv(env, 'REDIS_TLS_CERT_FILE');
  const keyFile = readEnv(env, 'REDIS_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const missing = certFile === undefined ? 'REDIS_TLS_CERT_FILE' : 'REDIS_TLS_KEY_FILE';
    throw new ConfigError(missing, 'is required too: a client certificate needs both the certificate and its key');
  }
  return {
    caFile,
    certFile,
    keyFile,
    ca: caFile === undefined ? undefined : pemFile('REDIS_TLS_CA_FILE', caFile),
    cert: certFile === undefined ? undefined : pemFile('REDIS_TLS_CERT_FILE', certFile),
    key: keyFile === undefined ? undefined : pemFile('REDIS_TLS_KEY_FILE', keyFile),
    serverName: readEnv(env, 'REDIS_TLS_SERVERNAME'),
    verify: !(booleanFrom(env, 'REDIS_TLS_INSECURE_SKIP_VERIFY') ?? false),
  };
}

/** The topology and TLS in words, without secrets. */
export function describeTopology(topology: RedisTopology): string {
  switch (topology.kind) {
    case 'standalone':
      return 'single node';
    case 'cluster': {
      const nat = Object.keys(topology.natMap).length;
      return `cluster (seeds ${topology.nodes.map(hostPortText).join(', ')}${nat > 0 ? `, ${nat} NAT mappings` : ''})`;
    }
    case 'sentinel': {
      const auth = topology.password ? `, sentinel user ${topology.username ?? 'default'} with password ***` : '';
      return (
        `sentinel (master "${topology.masterName}" via ${topology.sentinels.map(hostPortText).join(', ')}` +
        `${auth}${topology.tls ? ', sentinels over TLS' : ''})`
      );
    }
  }
}

export function describeTls(tls: RedisTlsSettings): string {
  const parts = [tls.caFile ? `CA ${tls.caFile}` : 'system CAs'];
  if (tls.certFile) parts.push(`client certificate ${tls.certFile}`);
  if (tls.serverName) parts.push(`server name ${tls.serverName}`);
  if (!tls.verify) parts.push('CERTIFICATES NOT VERIFIED');
  return `TLS (${parts.join(', ')})`;
}

export function hostPortText({ host, port }: HostPort): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function hostPortList(raw: string, name: string, defaultPort: number): HostPort[] {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new ConfigError(name, 'lists no host');
  return entries.map((entry) => hostPort(entry, name, defaultPort));
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
function hostPort(entry: string, name: string, defaultPort: number): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(entry);
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(name, `has an invalid address "${entry}": use host:port, comma-separated`);
  }
  return { host: match[1] ?? match[2], port };
}

/** REDIS_CLUSTER_NAT_MAP: `announced-host:port=reachable-host:port`, comma-separated. */
function natMapFrom(env: Env): Record<string, HostPort> {
  const raw = readEnv(env, 'REDIS_CLUSTER_NAT_MAP');
  const map: Record<string, HostPort> = {};
  if (raw === undefined) return map;
  for (const pair of raw.split(',').map((entry) => entry.trim())) {
    const [from, to, extra] = pair.split('=');
    if (from === undefined || to === undefined || extra !== undefined) {
      throw new ConfigError(
        'REDIS_CLUSTER_NAT_MAP',
        `has an invalid entry "${pair}": use announced:port=reachable:port`,
      );
    }
    const announced = hostPort(from.trim(), 'REDIS_CLUSTER_NAT_MAP', 6379);
    map[`${announced.host}:${announced.port}`] = hostPort(to.trim(), 'REDIS_CLUSTER_NAT_MAP', 6379);
  }
  return map;
}

function pemFile(name: string, path: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : String(code);
    throw new ConfigError(name, `names ${path}, which ${reason}`);
  }
  if (!content.includes('-----BEGIN ')) throw new ConfigError(name, `names ${path}, which is not a PEM file`);
  return content;
}
