import { Logger } from '@nestjs/common';
import { RateLimitedLogger } from './rate-limited-logger';

describe('RateLimitedLogger', () => {
  let now: number;
  let written: string[];
  let limiter: RateLimitedLogger;

  beforeEach(() => {
    now = 0;
    written = [];
    const logger = { warn: (message: string) => written.push(message) } as unknown as Logger;
    limiter = new RateLimitedLogger(logger, 60_000, () => now);
  });

  it('writes the first problem, suppresses repeats within the interval and reports how many', () => {
    expect(limiter.warn('down')).toBe(true);
    now = 1_000;
    expect(limiter.warn('down')).toBe(false);
    expect(limiter.warn('down')).toBe(false);
    now = 61_000;
    expect(limiter.warn('still down')).toBe(true);
    expect(written).toEqual(['down', 'still down (2 similar failures since the last report)']);
  });

  it('writes at once again after a reset', () => {
    limiter.warn('down');
    limiter.reset();
    now = 10;
    expect(limiter.warn('down again')).toBe(true);
    expect(written).toEqual(['down', 'down again']);
  });
});
