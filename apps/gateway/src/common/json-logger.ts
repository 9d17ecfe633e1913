import { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';

/**
 * Nest's logger as one JSON object per line (pino). Structured messages (objects) keep their
 * fields; strings become `msg`. The context (e.g. "Redis", "HTTP") goes to `context`.
 */
export class JsonLogger implements LoggerService {
  private readonly pino: Pino;

  /**
   * By default lines are written asynchronously: while one write is in flight the next lines
   * gather and go out together (fewer system calls under load, measured by `npm run bench`), yet
   * a quiet service still writes each line at once. pino flushes what is pending when the process
   * exits, which a graceful shutdown does through process.exit.
   */
  constructor(level = 'info', destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })) {
    this.pino = pino(
      { level, base: { service: 'responses-session-cache' }, timestamp: pino.stdTimeFunctions.isoTime },
      destination,
    );
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const { msg, ...fields } = message as { msg?: string };
      this.pino[level]({ context, ...fields }, msg ?? '');
    } else {
      this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
