import { AppConfig } from './app-config';
import { ConfigError } from './config-error';

function configError(env: Record<string, string>): ConfigError {
  try {
    new AppConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('AppConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = new AppConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      upstreamBaseUrl: 'http://127.0.0.1:4000/v1',
      upstreamApi: 'chat',
      upstreamApiKey: undefined,
      redisKeyPrefix: 'rsc',
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/postgres',
      sessionTtlSeconds: 60,
      sessionMaxResponses: 50,
      spendLogFlushIntervalMs: 10_000,
      spendLogBatchSize: 100,
    });
    expect(config.redis).toMatchObject({ host: '127.0.0.1', port: 6379, tls: false, db: 0 });
  });

  it('reads every variable when set', () => {
    const config = new AppConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      UPSTREAM_BASE_URL: 'https://gateway.internal/v1/',
      UPSTREAM_API: 'responses',
      UPSTREAM_API_KEY: 'sk-upstream',
      REDIS_KEY_PREFIX: 'team-a',
      DATABASE_URL: 'postgres://app:pw@db:5433/responses',
      SESSION_TTL_SECONDS: '120',
      SESSION_MAX_RESPONSES: '10',
      SPEND_LOG_FLUSH_INTERVAL_MS: '500',
      SPEND_LOG_BATCH_SIZE: '20',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      upstreamBaseUrl: 'https://gateway.internal/v1',
      upstreamApi: 'responses',
      upstreamApiKey: 'sk-upstream',
      redisKeyPrefix: 'team-a',
      sessionTtlSeconds: 120,
      sessionMaxResponses: 10,
      spendLogFlushIntervalMs: 500,
      spendLogBatchSize: 20,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', /must be an integer/],
    [{ PORT: '70000' }, 'PORT', /between 0 and 65535/],
    [{ UPSTREAM_API: 'completions' }, 'UPSTREAM_API', /one of chat, responses/],
    [{ UPSTREAM_BASE_URL: 'gateway:4000' }, 'UPSTREAM_BASE_URL', /must start with http:\/\/ or https:\/\//],
    [{ SESSION_TTL_SECONDS: '0' }, 'SESSION_TTL_SECONDS', /between 1 and/],
    [{ SESSION_MAX_RESPONSES: '1.5' }, 'SESSION_MAX_RESPONSES', /must be an integer/],
    [{ REDIS_KEY_PREFIX: 'a{b}' }, 'REDIS_KEY_PREFIX', /letters, digits/],
    [{ REDIS_TLS: 'maybe' }, 'REDIS_TLS', /true or false/],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL', /redis:\/\/ or rediss:\/\//],
  ])('rejects %j naming %s', (env, variable, problem) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${variable} `));
    expect(error.message).toMatch(problem);
  });

  it('prepares hot statements unless DATABASE_URL says pgbouncer=true', () => {
    expect(new AppConfig({}).databasePreparedStatements).toBe(true);
    const pooled = new AppConfig({ DATABASE_URL: 'postgresql://app@bouncer:6432/app?pgbouncer=true' });
    expect(pooled.databasePreparedStatements).toBe(false);
  });

  it('names DATABASE_URL when it is malformed, without echoing its password', () => {
    for (const url of ['not a url', 'mysql://app:s3cret@db/app', 'postgresql://app:s3cret@/']) {
      const error = configError({ DATABASE_URL: url });
      expect(error.variable).toBe('DATABASE_URL');
      expect(error.message).not.toContain('s3cret');
    }
  });
});
