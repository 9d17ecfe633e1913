import { readFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { Replica, sharedEnv, startReplica } from './support/replica';

/** The most connections the kernel queues for one listener here (it caps any backlog at this). */
function somaxconn(): number {
  try {
    return Number.parseInt(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'), 10);
  } catch {
    return 0;
  }
}

/** More than Node's default backlog (511) and within what the kernel allows here. */
const BURST = Math.min(1_000, somaxconn() - 24);

/** Opens `count` connections; resolves how many the kernel completed within `windowMs`. */
async function openConnections(port: number, count: number, windowMs: number): Promise<Socket[]> {
  const sockets = Array.from({ length: count }, () => connect({ port, host: '127.0.0.1' }));
  const connected = new Set<Socket>();
  for (const socket of sockets) {
    socket.on('error', () => undefined);
    socket.once('connect', () => connected.add(socket));
  }
  const deadline = Date.now() + windowMs;
  while (connected.size < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return sockets.filter((socket) => connected.has(socket));
}

/** The status code of one `GET /health/live` sent on an open connection. */
async function healthOn(socket: Socket): Promise<number> {
  let answer = '';
  socket.setEncoding('utf8');
  socket.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.once('close', () => resolve());
  });
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

/**
 * New connections that arrive while the service cannot accept them (its process stalled, or its event
 * loop saturated: Node accepts one connection per loop iteration) must wait in the kernel's accept queue
 * and be served afterwards. Beyond the listen backlog their SYNs are dropped and each client stalls 1 s,
 * then 3 s, before it even reaches the service (measured by `npm run bench -- --overload` before
 * LISTEN_BACKLOG: admitted new conversations at p99 4.4 s).
 */
describe('A burst of new connections', () => {
  let replica: Replica | undefined;

  afterAll(async () => {
    replica?.process.child.kill('SIGCONT');
    await replica?.process.stop('SIGKILL');
  });

  (BURST > 600 ? it : it.skip)(
    'is queued by the kernel while the service is stalled, and every connection is then served',
    async () => {
      replica = await startReplica(sharedEnv({}));
      replica.process.child.kill('SIGSTOP');
      const connected = await openConnections(replica.port, BURST, 15_000);
      expect(connected.length).toBe(BURST);

      replica.process.child.kill('SIGCONT');
      const statuses = await Promise.all(connected.map(healthOn));
      expect(statuses.filter((status) => status === 200).length).toBe(BURST);
    },
  );
});
