import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '@app/config';
import { Telemetry } from '@app/telemetry';
import { AppModule } from './app.module';
import { ApiExceptionFilter } from './common/api-exception.filter';
import { installRequestObservability, requestIdOf } from './common/request-observability';

export interface CreateAppOptions {
  logger?: LoggerService | false;
  /** Listen for SIGTERM/SIGINT and run shutdown hooks (main.ts: yes; in-process tests: no). */
  shutdownHooks?: boolean;
}

/** Builds the gateway (not yet listening). Shared by main.ts and the e2e tests. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    forceCloseConnections: true,
    genReqId: requestIdOf,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: options.logger,
    abortOnError: false,
  });
  installRequestObservability(adapter.getInstance(), app.get(Telemetry));
  // Also receives Fastify's own errors (malformed JSON, body too large): Nest routes them here.
  app.useGlobalFilters(new ApiExceptionFilter());
  // useProcessExit: exit 0 after the hooks instead of re-raising the signal, so exit handlers run
  // (a --cpu-prof profile is written, stdout is flushed).
  if (options.shutdownHooks ?? true) app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}
