import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { freePort } from '../../support/redis-server';

/** A redis-server process (data node, cluster node or sentinel) in its own directory, its output in a file there. */
export class RedisProcess {
  private readonly child: ChildProcess;
  private spawnError?: Error;

  /** `args`: everything redis-server is started with (a config file, options). */
  constructor(
    readonly port: number,
    private readonly dir: string,
    args: string[],
  ) {
    // Output to a file, not --logfile: errors in the arguments are written before a log file is opened.
    const log = openSync(this.logFile, 'a');
    try {
      this.child = spawn('redis-server', args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    this.child.on('error', (error) => (this.spawnError = error));
  }

  /** The options of a data node keeping nothing on disk, in `dir`. */
  static dataArgs(port: number, dir: string): string[] {
    return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
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
export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A short-lived client that fails fast instead of retrying: a probe, not a connection to keep. */
export async function query<T>(port: number, run: (client: Redis) => Promise<T>): Promise<T> {
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

/** One field of an INFO reply. */
export function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1].trim();
}

/** Thrown by a `waitFor` check when waiting longer is pointless (a process died, a command was refused). */
export class GiveUp extends Error {}

/**
 * Polls `check` until it returns true. A string it returns, or an error it throws, says what is
 * still missing; the last one is in the timeout's message. A `GiveUp` ends the wait at once.
 */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<true | string>): Promise<void> {
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
