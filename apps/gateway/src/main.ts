import './tracing'; // first: see tracing.ts
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { AppConfig, ConfigError, describeRedisTarget } from '@app/config';
import { JsonLogger } from './common/json-logger';
import { createApp } from './create-app';
import { backlogCapWarning } from './lifecycle/listen-backlog';

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = new AppConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const jsonLogger = new JsonLogger(config.logLevel);
  Logger.overrideLogger(jsonLogger);
  const logger = new Logger('Gateway');
  for (const warning of config.redis.warnings) logger.warn(`Redis configuration: ${warning}`);
  logger.log(`Redis target ${describeRedisTarget(config.redis)} (${describeSources(config)})`);

  if (!config.adminApiKey) {
    logger.warn('ADMIN_API_KEY is not set: the /cache endpoints are open to anyone who can reach this port');
  }
  const app = await createApp(config, { logger: jsonLogger });
  const backlogWarning = backlogCapWarning(config.listenBacklog);
  if (backlogWarning) logger.warn(backlogWarning);
  await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  logger.log(`Listening on ${await app.getUrl()} (upstream ${config.upstreamBaseUrl}, api=${config.upstreamApi})`);
}

function describeSources(config: AppConfig): string {
  const { sources } = config.redis;
  return Object.entries(sources)
    .map(([part, source]) => `${part} from ${source}`)
    .join(', ');
}

bootstrap().catch((error: unknown) => {
  console.error('Gateway failed to start:', error);
  process.exit(1);
});
