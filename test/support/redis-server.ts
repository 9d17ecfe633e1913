import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis, { RedisOptions } from 'ioredis';

/** A free TCP port on loopback (nothing listens on it when this returns). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A redis-server of the test's own on its own port, so a test can stop and restart it
 * without touching the shared one.
 */
export class OwnRedisServer {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
    private readonly password?: string,
  ) {}

  /** `password`: the server's requirepass, used by the readiness probe. */
  static async start(extraArgs: string[] = [], password?: string): Promise<OwnRedisServer> {
    const args = password ? [...extraArgs, '--requirepass', password] : extraArgs;
    const server = new OwnRedisServer(await freePort(), args, password);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...this.extraArgs,
    ];
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const probe = this.admin({ lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        await sleep(50);
      } finally {
        probe.disconnect();
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** A client with the server's password (caller disconnects it). */
  admin(options: RedisOptions = {}): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, password: this.password, ...options });
  }

  /** SIGSTOP: the server hangs (connections stay open, nothing is answered) until `resume`. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}
