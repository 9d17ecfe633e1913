import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { toErrorReply } from './error-envelope';

/** A stack trace of one kind of unexpected error at most this often (the rest are counted). */
const STACK_INTERVAL_MS = 60_000;
const MAX_KINDS = 100;

/**
 * Every error thrown in a route reaches the client in OpenAI's error envelope (with its `x-request-id`).
 * Expected errors (ApiError and Nest's HTTP exceptions) that are 5xx log one line, without a stack, except
 * refusals their refuser logs in summary (`ApiError.refused`); unexpected ones log their stack, at most once a
 * minute per kind.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  private readonly stacksLoggedAt = new Map<string, { at: number; suppressed: number }>();

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = toErrorReply(exception);
    if (status >= 500 && !(exception instanceof ApiError && exception.summarized)) {
      const requestId = host.switchToHttp().getRequest<FastifyRequest | undefined>()?.id ?? '-';
      if (exception instanceof HttpException) {
        this.logger.warn(
          `${status} ${body.error.code ?? body.error.type} (request ${requestId}): ${body.error.message}`,
        );
      } else {
        this.logUnexpected(exception, requestId);
      }
    }
    if (reply.sent) return;
    if (exception instanceof ApiError && exception.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(exception.retryAfterSeconds));
    }
    void reply.status(status).header('content-type', 'application/json').send(body);
  }

  private logUnexpected(exception: unknown, requestId: string): void {
    const error = exception instanceof Error ? exception : new Error(String(exception));
    const kind = `${error.name}: ${error.message.split('\n')[0]?.slice(0, 120) ?? ''}`;
    const now = Date.now();
    const seen = this.stacksLoggedAt.get(kind);
    if (seen && now - seen.at < STACK_INTERVAL_MS) {
      seen.suppressed += 1; // reported with the next stack of this kind
      return;
    }
    if (!seen && this.stacksLoggedAt.size >= MAX_KINDS) this.stacksLoggedAt.clear();
    const suppressed = seen?.suppressed ?? 0;
    this.stacksLoggedAt.set(kind, { at: now, suppressed: 0 });
    const repeats = suppressed > 0 ? ` (and ${suppressed} more since the last report)` : '';
    this.logger.error(`500 (request ${requestId})${repeats}: ${error.stack ?? kind}`);
  }
}
