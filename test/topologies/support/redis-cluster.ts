import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePort } from '../../support/redis-server';

const TOTAL_SLOTS = 16384;
/** Slow shared machines: starting, gossip and failover can take many seconds there. */
const START_TIMEOUT_MS = 120_000;

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a node may be unreachable before it is failed over. */
  nodeTimeoutMs?: number;
}

/** One line of CLUSTER NODES. */
interface ClusterNodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string;
  slots: number;
}

/**
 * A Redis Cluster of real redis-server processes on free ports (masters with their replicas),
 * so a test can kill a master and watch the cluster and the application fail over.
 */
export class RedisClusterUnderTest {
  private stopped = false;

  private constructor(
    private readonly dir: string,
    private readonly nodes: ClusterNode[],
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisClusterUnderTest> {
    const masters = options.masters ?? 3;
    const replicasPerMaster = options.replicasPerMaster ?? 1;
    const nodeTimeoutMs = options.nodeTimeoutMs ?? 1500;
    const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
    const count = masters * (1 + replicasPerMaster);
    // Bus ports are explicit (cluster-port): port + 10000 may be above 65535 for ephemeral ports.
    const ports = await distinctFreePorts(count * 2);
    const nodes: ClusterNode[] = [];
    const cluster = new RedisClusterUnderTest(dir, nodes);
    try {
      for (let index = 0; index < count; index += 1) {
        const port = ports[index];
        const nodeDir = join(dir, String(port));
        await mkdir(nodeDir);
        nodes.push(
          new ClusterNode(port, nodeDir, [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(nodeDir, 'nodes.conf'),
            '--cluster-port',
            String(ports[count + index]),
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            // A replica may always fail over, however long its link was down (tests kill at will).
            '--cluster-replica-validity-factor',
            '0',
          ]),
        );
      }
      for (const node of nodes) await node.waitUntilAnswering(START_TIMEOUT_MS);
      await cluster.create(replicasPerMaster);
      await cluster.waitUntilHealthy(START_TIMEOUT_MS);
      await cluster.waitUntilReplicasAttached(masters, replicasPerMaster, START_TIMEOUT_MS);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Every node's port, masters and replicas. */
  get ports(): number[] {
    return this.nodes.map((node) => node.port);
  }

  /** "127.0.0.1:p1,127.0.0.1:p2,..." of all nodes (for a REDIS_CLUSTER_NODES-style setting). */
  get seeds(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /**
   * Ports of the masters currently serving slots, as a live node sees them. Masters flagged
   * fail (or fail?) and nodes killed with `kill` are left out, even before gossip has noticed.
   */
  async masterPorts(): Promise<number[]> {
    const live = this.livePorts();
    const view = await query(this.anyLiveNode().port, clusterNodes);
    return view
      .filter((line) => isServingMaster(line) && live.includes(line.port))
      .map((line) => line.port)
      .sort((a, b) => a - b);
  }

  /** SIGKILL one node. */
  async kill(port: number): Promise<void> {
    await this.nodeAt(port).kill();
  }

  /** Resolves when cluster_state:ok on every live node and all 16384 slots are served by live masters. */
  async waitUntilHealthy(timeoutMs = 60_000): Promise<void> {
    await waitFor('the cluster to be healthy', timeoutMs, async () => {
      const live = this.livePorts();
      if (live.length === 0) return 'no node is running';
      for (const port of live) {
        const info = await query(port, (client) => client.cluster('INFO'));
        const state = infoField(info, 'cluster_state');
        if (state !== 'ok') return `cluster_state:${state ?? '?'} on ${port}`;
        const served = (await query(port, clusterNodes))
          .filter((line) => isServingMaster(line) && live.includes(line.port))
          .reduce((sum, line) => sum + line.slots, 0);
        if (served !== TOTAL_SLOTS) return `${port} sees ${served}/${TOTAL_SLOTS} slots served by live masters`;
      }
      return true;
    });
  }

  /** An ioredis client to one node (caller disconnects), for assertions such as SCAN/DBSIZE on a node. */
  node(port: number): Redis {
    return new Redis({ host: '127.0.0.1', port: this.nodeAt(port).port });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    if (this.stopped) return;
    this.stopped = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  private async create(replicasPerMaster: number): Promise<void> {
    const args = ['--cluster', 'create', ...this.seeds.split(','), '--cluster-replicas', String(replicasPerMaster)];
    try {
      await promisify(execFile)('redis-cli', [...args, '--cluster-yes'], { timeout: START_TIMEOUT_MS });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli ${args.join(' ')} failed: ${String(error)}\n${stdout ?? ''}${stderr ?? ''}`);
    }
  }

  /**
   * Every node sees each slot-serving master with its replicas, and each replica's link is up:
   * only then does killing a master lead to a promotion.
   */
  private async waitUntilReplicasAttached(masters: number, replicasPerMaster: number, timeoutMs: number) {
    await waitFor('every replica to be attached', timeoutMs, async () => {
      for (const port of this.livePorts()) {
        const view = await query(port, clusterNodes);
        const serving = view.filter(isServingMaster);
        if (serving.length !== masters) return `${port} sees ${serving.length}/${masters} masters serving slots`;
        for (const master of serving) {
          const replicas = view.filter((line) => line.masterId === master.id && !isFailed(line));
          if (replicas.length < replicasPerMaster)
            return `${port} sees ${replicas.length}/${replicasPerMaster} replicas of master ${master.port}`;
        }
        const self = view.find((line) => line.flags.includes('myself'));
        if (self?.flags.includes('slave')) {
          const info = await query(port, (client) => client.info('replication'));
          const link = infoField(info, 'master_link_status');
          if (link !== 'up') return `replica ${port} has master_link_status:${link ?? '?'}`;
        }
      }
      return true;
    });
  }

  private livePorts(): number[] {
    return this.nodes.filter((node) => node.alive).map((node) => node.port);
  }

  private anyLiveNode(): ClusterNode {
    const node = this.nodes.find((candidate) => candidate.alive);
    if (!node) throw new Error('no cluster node is running');
    return node;
  }

  private nodeAt(port: number): ClusterNode {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`port ${port} is not a node of this cluster (${this.ports.join(', ')})`);
    return node;
  }
}

/** A redis-server process of the cluster, in its own directory, its output in a file there. */
class ClusterNode {
  private readonly child: ChildProcess;
  private spawnError?: Error;

  constructor(
    readonly port: number,
    private readonly dir: string,
    extraArgs: string[],
  ) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    // Output to a file, not --logfile: errors in the arguments are written before the log file is opened.
    const log = openSync(this.logFile, 'a');
    try {
      this.child = spawn('redis-server', [...args, ...extraArgs], { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    this.child.on('error', (error) => (this.spawnError = error));
  }

  get alive(): boolean {
    return !this.spawnError && this.child.exitCode === null && this.child.signalCode === null;
  }

  private get logFile(): string {
    return join(this.dir, 'redis.log');
  }

  async waitUntilAnswering(timeoutMs: number): Promise<void> {
    await waitFor(`redis-server on port ${this.port} to answer PING`, timeoutMs, async () => {
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
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    const reason = this.spawnError ? String(this.spawnError) : `code ${this.child.exitCode}, ${this.child.signalCode}`;
    return `${reason}\n${log.split('\n').slice(-20).join('\n')}`;
  }
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

async function clusterNodes(client: Redis): Promise<ClusterNodeLine[]> {
  const text: unknown = await client.cluster('NODES');
  if (typeof text !== 'string') throw new Error(`unexpected CLUSTER NODES reply: ${String(text)}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ');
      return {
        id,
        port: Number(address.split('@')[0].split(':').pop()),
        flags: flags.split(','),
        masterId,
        slots: slots
          .filter((range) => !range.startsWith('[')) // migrating/importing markers, not served slots
          .map((range) => range.split('-').map(Number))
          .reduce((sum, [from, to]) => sum + (to ?? from) - from + 1, 0),
      };
    });
}

function isFailed(line: ClusterNodeLine): boolean {
  return line.flags.includes('fail') || line.flags.includes('fail?');
}

function isServingMaster(line: ClusterNodeLine): boolean {
  return line.flags.includes('master') && !isFailed(line) && line.slots > 0;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1].trim();
}

/** Thrown by a `waitFor` check when waiting longer is pointless (the process died). */
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
