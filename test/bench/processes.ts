import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** USER_HZ: Linux reports process times in these ticks on every platform Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A service under test as its own process; output goes to a log file, never to our memory. */
export class BenchProcess {
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  /** `node`: another Node binary than the one running the bench (to compare runtimes). */
  static start(
    name: string,
    args: string[],
    env: Record<string, string>,
    logDir: string,
    node = process.execPath,
  ): BenchProcess {
    const logFile = join(logDir, `${name}.log`);
    const fd = openSync(logFile, 'w');
    const child = spawn(node, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
    });
    return new BenchProcess(name, child, logFile);
  }

  async waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited (${this.child.exitCode}); see ${this.logFile}`);
      try {
        if ((await fetch(url)).ok) return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready at ${url}; see ${this.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Resident set size from /proc, in bytes. */
  async rssBytes(): Promise<number> {
    return this.statusBytes('VmRSS');
  }

  /**
   * The part of the RSS that is pages of files (mostly the node binary's own code and data): shared by every
   * process running the same binary, and reclaimable by the kernel.
   */
  async rssFileBytes(): Promise<number> {
    return this.statusBytes('RssFile');
  }

  private async statusBytes(field: 'VmRSS' | 'RssFile'): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  }

  /** CPU time (user + system) the process has used so far, in seconds, from /proc. */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${this.child.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  }

  /**
   * Waits until the process has been nearly idle (under 5% of a core) for 200 ms, at most `maxMs`:
   * so that the work one scenario left behind (writer batches, back-fills, GC) is not billed to the next.
   */
  async settle(maxMs = 3_000): Promise<void> {
    const deadline = performance.now() + maxMs;
    let before = await this.cpuSeconds();
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = await this.cpuSeconds();
      if (now - before < 0.01) return;
      before = now;
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const exited = once(this.child, 'exit');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The gateway's settings in every bench run: the local mock upstream, the run's own database and key prefix,
 * sessions that outlive the run and keep a 200-turn chain whole (the history-growth scenarios continue such
 * chains), no drain delay at stop.
 */
export function benchGatewayEnv(run: {
  mockPort: number;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    UPSTREAM_BASE_URL: `http://127.0.0.1:${run.mockPort}/v1`,
    DATABASE_URL: run.databaseUrl,
    REDIS_URL: run.redisUrl,
    REDIS_KEY_PREFIX: run.prefix,
    SESSION_TTL_SECONDS: '3600',
    SESSION_MAX_RESPONSES: '300',
    SHUTDOWN_DELAY_MS: '0',
  };
}

export const ENTRY = {
  gateway: ['dist/apps/gateway/src/main.js'],
  mock: ['dist/apps/mock-llm/src/main.js'],
  floor: ['--import', 'tsx', 'test/bench/floor-proxy.ts'],
  nestFloor: ['--import', 'tsx', 'test/bench/nest-floor.ts'],
  ioFloor: ['--import', 'tsx', 'test/bench/io-floor.ts'],
  otlpSink: ['--import', 'tsx', 'test/bench/otlp-sink.ts'],
};
