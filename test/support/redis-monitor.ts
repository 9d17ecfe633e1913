import { dataNodes, RedisClient } from '@app/redis';

/**
 * Commands one connection sends while `run` runs, as MONITOR sees them. Commands a Lua script runs
 * are reported by MONITOR as coming from "lua", so a script call counts once: one round trip.
 */
export async function commandsSentBy(redis: RedisClient, run: () => Promise<unknown>): Promise<string[]> {
  const [client] = dataNodes(redis); // a single node: these measurements run against one
  const monitor = client.duplicate({ monitor: true, lazyConnect: false });
  // ioredis enters monitoring mode a tick after MONITOR's OK: another client's command MONITOR reports in that
  // tick reaches it as a reply nobody waits for ("Command queue state error", seen in CI with other suites on
  // the same Redis). That line is not one of ours (we run only once monitoring), so the error is ignored.
  monitor.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('MONITOR did not start within 5 s')), 5_000);
    monitor.once('monitoring', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const localPort = (client as unknown as { stream: { localPort: number } }).stream.localPort;
  const seen: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source.endsWith(`:${localPort}`)) seen.push(String(args[0]).toLowerCase());
  });
  await run();
  await client.ping(); // MONITOR is ordered: once this PING is seen, everything before it was seen too
  const deadline = Date.now() + 2_000;
  while (!seen.includes('ping') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  monitor.disconnect();
  return seen.filter((command) => command !== 'ping');
}
