import { AppConfig } from '@app/config';
import { RedisService } from '@app/redis';
import { Telemetry } from '@app/telemetry';
import { eventually } from './support/eventually';
import { OwnRedisServer } from './support/redis-server';

function serviceFor(redisUrl: string, commandTimeoutMs = 200): RedisService {
  return new RedisService(
    new AppConfig({ REDIS_URL: redisUrl, REDIS_COMMAND_TIMEOUT_MS: String(commandTimeoutMs) }),
    new Telemetry(),
  );
}

describe('RedisService against a real Redis', () => {
  let redis: OwnRedisServer;
  beforeAll(async () => (redis = await OwnRedisServer.start()));
  afterAll(() => redis.stop());

  it('runs commands and measures a ping', async () => {
    const service = serviceFor(redis.url);
    await service.onModuleInit();
    try {
      expect(await service.attempt('set', (client) => client.set('k', 'v'))).toEqual({ ok: true, value: 'OK' });
      expect(await service.attempt('get', (client) => client.get('k'))).toEqual({ ok: true, value: 'v' });
      const ping = await service.ping();
      expect(ping.ok).toBe(true);
      expect(service.stats().failures).toBe(0);
    } finally {
      await service.onApplicationShutdown();
    }
  });

  it('turns a command that outlives its timeout into a counted failure instead of waiting', async () => {
    const service = serviceFor(redis.url, 100);
    const admin = serviceFor(redis.url);
    await Promise.all([service.onModuleInit(), admin.onModuleInit()]);
    try {
      // The server stops answering clients for a second; the command must give up after its 100 ms.
      await admin.client.client('PAUSE', 1000, 'ALL');
      const outcome = await service.attempt('get', (client) => client.get('k'));
      expect(outcome).toEqual({ ok: false, error: 'timeout' });
      expect(service.stats()).toMatchObject({ failures: 1, timeouts: 1, lastError: 'timeout' });
    } finally {
      await admin.client.client('UNPAUSE').catch(() => undefined);
      await Promise.all([service.onApplicationShutdown(), admin.onApplicationShutdown()]);
    }
  });

  it('does not count a reply that arrived while the event loop was busy as a timeout', async () => {
    // A saturated service: the reply is in the socket long before the deadline, but the loop only gets to
    // it after the deadline has passed. Timers run before I/O in a loop iteration, so a timeout that
    // fired first made Redis look slow (and opened the circuit) although Redis had answered in time.
    const service = serviceFor(redis.url, 100);
    await service.onModuleInit();
    try {
      const outcome = service.attempt('set', (client) => client.set('busy', 'v'));
      await new Promise((resolve) => setImmediate(resolve)); // the command is written
      const busyUntil = Date.now() + 400;
      while (Date.now() < busyUntil) {
        // the loop is blocked, as by a burst of other requests; Redis answers meanwhile
      }
      expect(await outcome).toEqual({ ok: true, value: 'OK' });
      expect(service.stats()).toMatchObject({ failures: 0, timeouts: 0 });
    } finally {
      await service.onApplicationShutdown();
    }
  });

  it('fails commands immediately while Redis is down (nothing queues), then works again after it returns', async () => {
    const service = serviceFor(redis.url);
    await service.onModuleInit();
    try {
      await redis.stop();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => service.attempt('get', (client) => client.get('k'))),
      );
      expect(outcomes.every((outcome) => !outcome.ok)).toBe(true);
      // The client may fail the commands on the dead socket a moment before it handles the 'close'.
      await eventually(async () => !service.isReady, Boolean, 5_000);

      await redis.restart();
      await eventually(async () => service.isReady);
      expect(await service.attempt('ping', (client) => client.ping())).toEqual({ ok: true, value: 'PONG' });
    } finally {
      await service.onApplicationShutdown();
    }
  });
});
