import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { distinctFreePorts, GiveUp, infoField, query, RedisProcess, waitFor } from './redis-process';

/** Slow shared machines: starting, discovery and failover can take many seconds there. */
const TIMEOUT_MS = 120_000;

export interface RedisSentinelGroupOptions {
  masterName?: string;
  /** sentinel down-after-milliseconds: how long the master may be unreachable before it is down. */
  downAfterMs?: number;
}

/**
 * A master, its replica and three Sentinels (quorum 2), real redis-server processes on free ports,
 * so a test can fail the master over and watch the application follow.
 */
export class RedisSentinelGroupUnderTest {
  private stopped = false;

  private constructor(
    readonly masterName: string,
    private readonly dir: string,
    private readonly data: RedisProcess[],
    private readonly sentinelProcesses: RedisProcess[],
  ) {}

  static async start(options: RedisSentinelGroupOptions = {}): Promise<RedisSentinelGroupUnderTest> {
    const masterName = options.masterName ?? 'mymaster';
    const downAfterMs = options.downAfterMs ?? 2000;
    const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-'));
    const [masterPort, replicaPort, ...sentinelPorts] = await distinctFreePorts(5);
    const data: RedisProcess[] = [];
    const sentinels: RedisProcess[] = [];
    const group = new RedisSentinelGroupUnderTest(masterName, dir, data, sentinels);
    try {
      data.push(await dataNode(dir, masterPort, []));
      data.push(await dataNode(dir, replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]));
      for (const node of data) await node.waitUntilAnswering(TIMEOUT_MS);
      await waitFor(`replica ${replicaPort} to sync with master ${masterPort}`, TIMEOUT_MS, () =>
        replicationOf(replicaPort, masterPort),
      );
      const config = [
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
      ];
      for (const port of sentinelPorts) sentinels.push(await sentinelNode(dir, port, config));
      for (const sentinel of sentinels) await sentinel.waitUntilAnswering(TIMEOUT_MS);
      await group.waitUntilSentinelsKnowEachOther(replicaPort);
      return group;
    } catch (error) {
      await group.stop();
      throw error;
    }
  }

  /** Ports of the two data nodes (initial master first, then the replica). */
  get dataPorts(): number[] {
    return this.data.map((node) => node.port);
  }

  get sentinelPorts(): number[] {
    return this.sentinelProcesses.map((sentinel) => sentinel.port);
  }

  /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3" of the sentinels. */
  get sentinels(): string {
    return this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /** The master's port as the sentinels report it (SENTINEL get-master-addr-by-name). */
  async currentMasterPort(): Promise<number> {
    return this.masterPortSeenBy(this.sentinelPorts[0]);
  }

  /**
   * SENTINEL FAILOVER; resolves with the new master's port once all sentinels report it, it says
   * role:master and the old master says role:slave with master_link_status:up. The old master is
   * reconfigured by the Sentinels some seconds after the switch, so this takes a while.
   */
  async failover(): Promise<number> {
    const oldPort = await this.currentMasterPort();
    const sentinelPort = this.sentinelPorts[0];
    await waitFor(`SENTINEL FAILOVER ${this.masterName} to be accepted`, TIMEOUT_MS, async () => {
      try {
        await query(sentinelPort, (client) => client.call('SENTINEL', 'FAILOVER', this.masterName));
        return true;
      } catch (error) {
        // INPROG: one is running already, wait for it. NOGOODSLAVE: no fresh view of a replica yet.
        const message = error instanceof Error ? error.message : String(error);
        if (message.startsWith('INPROG')) return true;
        if (message.startsWith('NOGOODSLAVE')) return message;
        throw new GiveUp(`SENTINEL FAILOVER failed: ${message}`);
      }
    });
    let newPort = oldPort;
    await waitFor(`the failover away from ${oldPort} to complete`, TIMEOUT_MS, async () => {
      newPort = await this.masterPortSeenBy(sentinelPort);
      if (newPort === oldPort) return `sentinel ${sentinelPort} still reports ${oldPort}`;
      for (const port of this.sentinelPorts) {
        const seen = await this.masterPortSeenBy(port);
        if (seen !== newPort) return `sentinel ${port} reports ${seen}, not ${newPort}`;
      }
      const role = infoField(await query(newPort, (client) => client.info('replication')), 'role');
      if (role !== 'master') return `new master ${newPort} says role:${role ?? '?'}`;
      return replicationOf(oldPort, newPort);
    });
    return newPort;
  }

  /** An ioredis client to a data node or a sentinel (caller disconnects). */
  node(port: number): Redis {
    if (!this.dataPorts.includes(port) && !this.sentinelPorts.includes(port))
      throw new Error(
        `port ${port} is not part of this group (${[...this.dataPorts, ...this.sentinelPorts].join(', ')})`,
      );
    return new Redis({ host: '127.0.0.1', port });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinelProcesses, ...this.data].map((process) => process.kill()));
    if (this.stopped) return;
    this.stopped = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  private async masterPortSeenBy(sentinelPort: number): Promise<number> {
    const reply = await query(sentinelPort, (client) =>
      client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName),
    );
    if (!Array.isArray(reply) || reply.length !== 2)
      throw new Error(`sentinel ${sentinelPort} does not know master ${this.masterName}: ${String(reply)}`);
    return Number(reply[1]);
  }

  /** Every sentinel sees the replica and the two other sentinels, so a failover can start at once. */
  private async waitUntilSentinelsKnowEachOther(replicaPort: number): Promise<void> {
    await waitFor('the sentinels to know the replica and each other', TIMEOUT_MS, async () => {
      for (const port of this.sentinelPorts) {
        const master = toRecord(await query(port, (client) => client.call('SENTINEL', 'MASTER', this.masterName)));
        if (master.flags !== 'master') return `sentinel ${port} flags the master ${master.flags}`;
        if (master['num-other-sentinels'] !== '2')
          return `sentinel ${port} knows ${master['num-other-sentinels']} other sentinels`;
        const replicas = await query(port, (client) => client.call('SENTINEL', 'REPLICAS', this.masterName));
        const replica = toRecords(replicas).find((entry) => entry.port === String(replicaPort));
        if (replica?.flags !== 'slave' || replica['master-link-status'] !== 'ok')
          return `sentinel ${port} sees replica ${replicaPort} as ${replica ? replica.flags : 'unknown'}`;
        const others = toRecords(await query(port, (client) => client.call('SENTINEL', 'SENTINELS', this.masterName)));
        const bad = others.find((entry) => entry.flags !== 'sentinel');
        if (bad) return `sentinel ${port} flags sentinel ${bad.port} ${bad.flags}`;
      }
      return true;
    });
  }
}

/** A data node in its own directory under `parent`. */
async function dataNode(parent: string, port: number, extraArgs: string[]): Promise<RedisProcess> {
  const dir = join(parent, `data-${port}`);
  await mkdir(dir);
  return new RedisProcess(port, dir, [...RedisProcess.dataArgs(port, dir), ...extraArgs]);
}

/** Sentinels rewrite their config file (what they learn, failovers), so each has its own. */
async function sentinelNode(parent: string, port: number, directives: string[]): Promise<RedisProcess> {
  const dir = join(parent, `sentinel-${port}`);
  await mkdir(dir);
  const file = join(dir, 'sentinel.conf');
  const head = [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`];
  await writeFile(file, [...head, ...directives, ''].join('\n'));
  return new RedisProcess(port, dir, [file, '--sentinel']);
}

/** true once the node on `port` is a replica of `masterPort` with its link up, else what it is. */
async function replicationOf(port: number, masterPort: number): Promise<true | string> {
  const info = await query(port, (client) => client.info('replication'));
  const role = infoField(info, 'role');
  const master = infoField(info, 'master_port');
  const link = infoField(info, 'master_link_status');
  if (role === 'slave' && master === String(masterPort) && link === 'up') return true;
  return `${port} says role:${role ?? '?'} master_port:${master ?? '-'} master_link_status:${link ?? '-'}`;
}

/** A Sentinel reply of the form [key, value, key, value, ...] as an object. */
function toRecord(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) throw new Error(`unexpected sentinel reply: ${String(reply)}`);
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < reply.length; index += 2) record[String(reply[index])] = String(reply[index + 1]);
  return record;
}

function toRecords(reply: unknown): Record<string, string>[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected sentinel reply: ${String(reply)}`);
  return reply.map(toRecord);
}
