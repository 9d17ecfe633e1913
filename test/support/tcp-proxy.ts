import { once } from 'node:events';
import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy in front of a real server (PostgreSQL, Redis), so a test can cut the connection as an outage
 * would, and restore it, or make every answer slow (`replyLatencyMs`), without touching the server other
 * tests use.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    private readonly replyLatencyMs: number,
    public port = 0,
  ) {}

  /** `replyLatencyMs`: how long each chunk the server sends is held before the client gets it. */
  static async start(targetHost: string, targetPort: number, replyLatencyMs = 0): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort, replyLatencyMs);
    await proxy.restore();
    return proxy;
  }

  /** Accepts connections again (on the same port). */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      if (this.replyLatencyMs > 0) {
        // Timers of one duration fire in the order they were set: the chunks keep their order.
        upstream.on('data', (chunk: Buffer) => {
          setTimeout(() => {
            if (!client.destroyed) client.write(chunk);
          }, this.replyLatencyMs);
        });
      } else {
        upstream.pipe(client);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy did not bind');
    this.port = address.port;
    this.server = server;
  }

  /** Drops every open connection and refuses new ones, as a database that went away. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
