import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { distinctFreePorts, infoField, query, RedisProcess, waitFor } from './redis-process';

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
    private readonly nodes: RedisProcess[],
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisClusterUnderTest> {
    const masters = options.masters ?? 3;
    const replicasPerMaster = options.replicasPerMaster ?? 1;
    const nodeTimeoutMs = options.nodeTimeoutMs ?? 1500;
    const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
    const count = masters * (1 + replicasPerMaster);
    // Bus ports are explicit (cluster-port): port + 10000 may be above 65535 for ephemeral ports.
    const ports = await distinctFreePorts(count * 2);
    const nodes: RedisProcess[] = [];
    const cluster = new RedisClusterUnderTest(dir, nodes);
    try {
      for (let index = 0; index < count; index += 1) {
        const port = ports[index];
        const nodeDir = join(dir, String(port));
        await mkdir(nodeDir);
        nodes.push(
          new RedisProcess(port, nodeDir, [
            ...RedisProcess.dataArgs(port, nodeDir),
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

  private anyLiveNode(): RedisProcess {
    const node = this.nodes.find((candidate) => candidate.alive);
    if (!node) throw new Error('no cluster node is running');
    return node;
  }

  private nodeAt(port: number): RedisProcess {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`port ${port} is not a node of this cluster (${this.ports.join(', ')})`);
    return node;
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
