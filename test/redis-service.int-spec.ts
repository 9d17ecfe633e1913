import { AppConfig } from '@app/config';
import { RedisService } from '@app/redis';
import { Telemetry } from '@app/telemetry';
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

  it('fails commands immediately while Redis is down (nothing queues), then works again after it returns', async () => {
    const service = serviceFor(redis.url);
    await service.onModuleInit();
    try {
      await redis.stop();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => service.attempt('get', (client) => client.get('k'))),
      );
      expect(outcomes.every((outcome) => !outcome.ok)).toBe(true);
      expect(service.isReady).toBe(false);

      await redis.restart();
      const deadline = Date.now() + 10_000;
      while (!service.isReady && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await service.attempt('ping', (client) => client.ping())).toEqual({ ok: true, value: 'PONG' });
    } finally {
      await service.onApplicationShutdown();
    }
  });
});
