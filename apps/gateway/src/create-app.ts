import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '@app/config';
import { Telemetry } from '@app/telemetry';
import { Admission } from './admission/admission';
import { installAdmissionControl } from './admission/admission-control';
import { AppModule } from './app.module';
import { ApiExceptionFilter } from './common/api-exception.filter';
import { installRequestObservability, requestIdOf } from './common/request-observability';
import { installGracefulShutdown } from './lifecycle/graceful-shutdown';
import { installPassthrough } from './passthrough/passthrough';
import { UpstreamClient } from './responses/upstream/upstream.client';

export interface CreateAppOptions {
  logger?: LoggerService | false;
  /** Drain on SIGTERM/SIGINT, then run the shutdown hooks (main.ts: yes; in-process tests: no). */
  shutdownHooks?: boolean;
}

/** Builds the gateway (not yet listening). Shared by main.ts and the e2e tests. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const gracefulShutdown = options.shutdownHooks ?? true;
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // Graceful: idle keep-alive connections close at shutdown, requests and streams in flight may finish
    // (installGracefulShutdown cuts them after SHUTDOWN_GRACE_MS). In-process tests close at once.
    forceCloseConnections: gracefulShutdown ? 'idle' : true,
    // Over-long ids reach the id check (404) instead of the router's 414; beyond this, a URL problem.
    routerOptions: { maxParamLength: 1024 },
    genReqId: requestIdOf,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: options.logger,
    abortOnError: false,
  });
  installRequestObservability(adapter.getInstance(), app.get(Telemetry));
  const admission = app.get(Admission);
  if (admission.enabled) installAdmissionControl(adapter.getInstance(), admission);
  if (config.passthrough) installPassthrough(adapter.getInstance(), config, app.get(UpstreamClient).dispatcher);
  // Also receives Fastify's own errors (malformed JSON, body too large): Nest routes them here.
  app.useGlobalFilters(new ApiExceptionFilter());
  // Exits 0 after the hooks instead of re-raising the signal, so exit handlers run (a --cpu-prof
  // profile is written, stdout is flushed).
  if (gracefulShutdown) installGracefulShutdown(app, config);
  return app;
}
