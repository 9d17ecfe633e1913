import { Logger } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Server } from 'node:http';
import { AppConfig } from '@app/config';
import { stopTracing } from '@app/telemetry';
import { DrainState } from './drain-state';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** After the HTTP server has closed: how long cut turns may take to be recorded before the last flush. */
const RECORDING_WAIT_MS = 3_000;
/** The hooks (the writer's last flush, bounded at 15 s; the connections) must be done by then. */
const HOOKS_DEADLINE_MS = 25_000;

/**
 * The Kubernetes way to stop: on SIGTERM, readiness says `draining` at once; new connections are still
 * served for SHUTDOWN_DELAY_MS (load balancers need that long to notice), then refused; requests and
 * streams in flight run to completion for up to SHUTDOWN_GRACE_MS, and what is still open then is cut
 * (its turn recorded as cancelled). Only then do the shutdown hooks run: the writer's last flush and the
 * journal, then the upstream, Redis and PostgreSQL connections. A second signal cuts at once.
 */
export function installGracefulShutdown(app: NestFastifyApplication, config: AppConfig): void {
  const logger = new Logger('Gateway');
  const drain = app.get(DrainState);
  const server: Server = app.getHttpServer();
  let stopping = false;

  const cutOpenConnections = (why: string) => {
    logger.warn(`${why}: cutting the requests and streams still open`);
    server.closeAllConnections();
  };

  const stop = async (signal: string): Promise<void> => {
    drain.begin();
    logger.log(
      `Received ${signal}, shutting down: draining (readiness 503), accepting new connections for ${config.shutdownDelayMs} ms, ` +
        `then waiting up to ${config.shutdownGraceMs} ms for requests in flight`,
    );
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    logger.log(`No new connections now; ${drain.openTurns} turns in flight`);
    const grace = setTimeout(
      () => cutOpenConnections(`Shutdown grace of ${config.shutdownGraceMs} ms is over`),
      config.shutdownGraceMs,
    );
    // A keep-alive connection whose last response just ended would otherwise hold the close open.
    const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
    try {
      await app.getHttpAdapter().close(); // stops accepting; resolves when every connection has ended
    } finally {
      clearTimeout(grace);
      clearInterval(idleSweep);
    }
    await drain.settled(RECORDING_WAIT_MS); // a cut turn is recorded (cancelled) before the last flush
    setTimeout(() => {
      logger.error(
        `Shutdown hooks still running after ${HOOKS_DEADLINE_MS} ms; exiting (the journal keeps what is unwritten)`,
      );
      process.exit(1);
    }, HOOKS_DEADLINE_MS).unref();
    await app.close(); // the hooks: the writer's last flush and the journal, then the connections
    await stopTracing(); // the last spans (the final flush's among them) are exported
    process.exit(0);
  };

  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (stopping) {
        cutOpenConnections(`Received ${signal} again`);
        return;
      }
      stopping = true;
      stop(signal).catch((error: unknown) => {
        logger.error(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      });
    });
  }
}
