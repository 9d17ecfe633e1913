import { Logger } from '@nestjs/common';

/**
 * Logs a recurring problem once, then at most once per interval with a count of what
 * was suppressed, so an outage cannot flood the logs.
 */
export class RateLimitedLogger {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns true when the message was written. */
  warn(message: string): boolean {
    const now = this.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed += 1;
      return false;
    }
    const suffix = this.suppressed > 0 ? ` (${this.suppressed} similar failures since the last report)` : '';
    this.logger.warn(message + suffix);
    this.lastLoggedAt = now;
    this.suppressed = 0;
    return true;
  }

  /** Forget the episode: the next problem is logged at once. */
  reset(): void {
    this.lastLoggedAt = Number.NEGATIVE_INFINITY;
    this.suppressed = 0;
  }
}
