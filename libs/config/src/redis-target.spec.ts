import { describeRedisTarget, resolveRedisTarget } from './redis-target';

describe('resolveRedisTarget', () => {
  it('defaults to redis://127.0.0.1:6379 with every part from the default', () => {
    const target = resolveRedisTarget({});
    expect(target).toMatchObject({ host: '127.0.0.1', port: 6379, tls: false, db: 0, warnings: [] });
    expect(Object.values(target.sources)).toEqual(Array(6).fill('default'));
  });

  it('takes every part from REDIS_URL, including rediss:// and the database number', () => {
    const target = resolveRedisTarget({ REDIS_URL: 'rediss://app:p%40ss@cache.internal:6380/3' });
    expect(target).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'app',
      password: 'p@ss',
      tls: true,
      db: 3,
      warnings: [],
    });
    expect(target.sources.password).toBe('REDIS_URL');
  });

  it('builds the target from the individual variables when REDIS_URL is unset, without warnings', () => {
    const target = resolveRedisTarget({
      REDIS_HOST: 'cache',
      REDIS_PORT: '6390',
      REDIS_USERNAME: 'svc',
      REDIS_PASSWORD: 'pw',
      REDIS_TLS: 'true',
    });
    expect(target).toMatchObject({ host: 'cache', port: 6390, username: 'svc', password: 'pw', tls: true });
    expect(target.sources).toMatchObject({ host: 'REDIS_HOST', port: 'REDIS_PORT', password: 'REDIS_PASSWORD' });
    expect(target.warnings).toEqual([]);
  });

  it('uses REDIS_PASSWORD when REDIS_URL has none, and warns about the contradiction', () => {
    const target = resolveRedisTarget({ REDIS_URL: 'redis://cache:6379', REDIS_PASSWORD: 'pw' });
    expect(target.password).toBe('pw');
    expect(target.sources.password).toBe('REDIS_PASSWORD');
    expect(target.warnings).toEqual(['REDIS_URL has no password but REDIS_PASSWORD is set: REDIS_PASSWORD is used']);
  });

  it('warns by name when REDIS_PORT differs from the port in REDIS_URL, and REDIS_PORT wins', () => {
    const target = resolveRedisTarget({ REDIS_URL: 'redis://cache:6379', REDIS_PORT: '6380' });
    expect(target.port).toBe(6380);
    expect(target.warnings).toEqual(['REDIS_PORT (6380) overrides the port in REDIS_URL (6379)']);
  });

  it('does not warn when an individual variable repeats what REDIS_URL says', () => {
    const target = resolveRedisTarget({
      REDIS_URL: 'redis://:pw@cache:6379',
      REDIS_PORT: '6379',
      REDIS_PASSWORD: 'pw',
    });
    expect(target.warnings).toEqual([]);
  });
});

describe('describeRedisTarget', () => {
  it('redacts the password and shows the scheme, user, host, port and database', () => {
    const text = describeRedisTarget(resolveRedisTarget({ REDIS_URL: 'rediss://app:secret@cache:6380/2' }));
    expect(text).toBe('rediss://app:***@cache:6380/2');
  });

  it('shows a password-only target without a user', () => {
    expect(describeRedisTarget(resolveRedisTarget({ REDIS_PASSWORD: 'secret' }))).toBe('redis://:***@127.0.0.1:6379/0');
  });
});
