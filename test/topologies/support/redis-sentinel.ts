import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { freePort } from '../../support/redis-server';

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
    private readonly data: ServerProcess[],
    private readonly sentinelProcesses: ServerProcess[],
  ) {}

  static async start(options: RedisSentinelGroupOptions = {}): Promise<RedisSentinelGroupUnderTest> {
    const masterName = options.masterName ?? 'mymaster';
    const downAfterMs = options.downAfterMs ?? 2000;
    const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-'));
    const [masterPort, replicaPort, ...sentinelPorts] = await distinctFreePorts(5);
    const data: ServerProcess[] = [];
    const sentinels: ServerProcess[] = [];
    const group = new RedisSentinelGroupUnderTest(masterName, dir, data, sentinels);
    try {
      data.push(await ServerProcess.data(dir, masterPort, []));
      data.push(await ServerProcess.data(dir, replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]));
      for (const node of data) await node.waitUntilAnswering();
      await waitFor(`replica ${replicaPort} to sync with master ${masterPort}`, TIMEOUT_MS, () =>
        replicationOf(replicaPort, masterPort),
      );
      const config = [
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
      ];
      for (const port of sentinelPorts) sentinels.push(await ServerProcess.sentinel(dir, port, config));
      for (const sentinel of sentinels) await sentinel.waitUntilAnswering();
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

/** A redis-server process (data node or sentinel), in its own directory, its output in a file there. */
class ServerProcess {
  private readonly child: ChildProcess;
  private spawnError?: Error;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    args: string[],
  ) {
    // Output to a file, not logfile: errors in the configuration are written before a log file is opened.
    const log = openSync(join(dir, 'redis.log'), 'a');
    try {
      this.child = spawn('redis-server', args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    this.child.on('error', (error) => (this.spawnError = error));
  }

  static async data(parent: string, port: number, extraArgs: string[]): Promise<ServerProcess> {
    const dir = join(parent, `data-${port}`);
    await mkdir(dir);
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    return new ServerProcess(port, dir, [...args, ...extraArgs]);
  }

  /** Sentinels rewrite their config file (what they learn, failovers), so each has its own. */
  static async sentinel(parent: string, port: number, directives: string[]): Promise<ServerProcess> {
    const dir = join(parent, `sentinel-${port}`);
    await mkdir(dir);
    const file = join(dir, 'sentinel.conf');
    const head = [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`];
    await writeFile(file, [...head, ...directives, ''].join('\n'));
    return new ServerProcess(port, dir, [file, '--sentinel']);
  }

  get alive(): boolean {
    return !this.spawnError && this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitUntilAnswering(): Promise<void> {
    await waitFor(`redis-server on port ${this.port} to answer PING`, TIMEOUT_MS, async () => {
      if (!this.alive) throw new GiveUp(`redis-server on port ${this.port} exited: ${await this.describeExit()}`);
      await query(this.port, (client) => client.ping());
      return true;
    });
  }

  /** SIGKILL, then waits for the exit; nothing to do if the process is gone already. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  private async describeExit(): Promise<string> {
    const log = await readFile(join(this.dir, 'redis.log'), 'utf8').catch(() => '');
    const reason = this.spawnError ? String(this.spawnError) : `code ${this.child.exitCode}, ${this.child.signalCode}`;
    return `${reason}\n${log.split('\n').slice(-20).join('\n')}`;
  }
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

/** `count` distinct free ports (freePort() alone may hand out the same port twice). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A short-lived client that fails fast instead of retrying: a probe, not a connection to keep. */
async function query<T>(port: number, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 5_000,
    commandTimeout: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await run(client);
  } finally {
    client.disconnect();
  }
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

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1].trim();
}

/** Thrown by a `waitFor` check when waiting longer is pointless (a process died, a command was refused). */
class GiveUp extends Error {}

/**
 * Polls `check` until it returns true. A string it returns, or an error it throws, says what is
 * still missing; the last one is in the timeout's message. A `GiveUp` ends the wait at once.
 */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<true | string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not checked yet';
  for (;;) {
    try {
      const result = await check();
      if (result === true) return;
      last = result;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last}`);
    await sleep(200);
  }
}
