import { randomBytes } from 'node:crypto';
import { LoggerService } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '@app/config';
import { createApp } from '../../apps/gateway/src/create-app';

export interface RunningGateway {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  logs: CapturedLogs;
  close(): Promise<void>;
}

/** A key namespace of its own for one test, under the run's prefix (removed by the global teardown). */
export function uniquePrefix(): string {
  return `${process.env.REDIS_KEY_PREFIX ?? 'rsc-test'}-${randomBytes(4).toString('hex')}`;
}

/**
 * The gateway on the real Fastify server, real Redis and PostgreSQL, listening on a free port. Admission
 * control is off unless `env` sets it: the gateway shares its event loop with the test driving it.
 */
export async function startGateway(env: Record<string, string | undefined> = {}): Promise<RunningGateway> {
  const config = new AppConfig({
    ...process.env,
    REDIS_KEY_PREFIX: uniquePrefix(),
    OVERLOAD_QUEUE_TARGET_MS: '0',
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
  });
  const logs = new CapturedLogs();
  const app = await createApp(config, { logger: logs, shutdownHooks: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('gateway did not bind a TCP port');
  return { app, config, url: `http://127.0.0.1:${address.port}`, logs, close: () => app.close() };
}

export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  context?: string;
}

/** Keeps what the app logged so tests can assert on it. */
export class CapturedLogs implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown, context?: string): void {
    this.push('log', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push(
      'error',
      message,
      typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined,
    );
  }
  warn(message: unknown, context?: string): void {
    this.push('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.push('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.push('verbose', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.push('fatal', message, context);
  }

  matching(pattern: RegExp): LogLine[] {
    return this.lines.filter((line) => pattern.test(line.message));
  }

  private push(level: LogLine['level'], message: unknown, context?: string): void {
    const text =
      message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message);
    this.lines.push({ level, message: text, context });
  }
}
