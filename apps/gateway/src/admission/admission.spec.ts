import { AppConfig } from '@app/config';
import { Telemetry } from '@app/telemetry';
import { ApiError } from '../common/api-error';
import { Admission } from './admission';

function admission(target: string): Admission {
  return new Admission(new AppConfig({ OVERLOAD_QUEUE_TARGET_MS: target }), new Telemetry());
}

const arrived = (msAgo: number, databaseMs = 0) => ({
  startedAt: performance.now() - msAgo,
  upstreamMs: 0,
  databaseMs,
  calledUpstream: false,
});

describe('Admission, at the last step before the upstream', () => {
  it('refuses a turn that waited over four times the target in the service, with a retryable 503', () => {
    const control = admission('50');
    try {
      control.beforeUpstream(arrived(10));
      let refused: unknown;
      try {
        control.beforeUpstream(arrived(300));
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ status: 503 });
      expect((refused as ApiError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect((refused as ApiError).retryAfterSeconds).toBeLessThanOrEqual(3);
      expect((refused as ApiError).getResponse()).toMatchObject({
        error: { type: 'server_error', code: 'server_overloaded' },
      });
    } finally {
      control.onApplicationShutdown();
    }
  });

  it('does not count what PostgreSQL took as the service’s own wait', () => {
    const control = admission('50');
    try {
      expect(() => control.beforeUpstream(arrived(300, 290))).not.toThrow();
    } finally {
      control.onApplicationShutdown();
    }
  });

  it('does nothing when off', () => {
    const control = admission('0');
    expect(control.enabled).toBe(false);
    expect(control.admits()).toBe(true);
    expect(() => control.beforeUpstream(arrived(60_000))).not.toThrow();
  });
});

/** Keeps the event loop busy (no idle time) for `ms`. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** Lets the window that is due end (its timer runs before this one). */
const nextWindow = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('Admission, on the arrival side', () => {
  it('sheds while new connections arrive at an event loop with no idle time', async () => {
    const control = admission('50');
    try {
      for (let window = 0; window < 3; window += 1) {
        control.connectionAccepted();
        busyFor(130);
        await nextWindow();
      }
      expect(control.share).toBeLessThan(1);
    } finally {
      control.onApplicationShutdown();
    }
  });

  it('does not shed for a busy event loop that no new connection is waiting on (a closed set of clients)', async () => {
    const control = admission('50');
    try {
      for (let window = 0; window < 3; window += 1) {
        busyFor(130);
        await nextWindow();
      }
      expect(control.share).toBe(1);
    } finally {
      control.onApplicationShutdown();
    }
  });
});

/** Lets at least one 100 ms window end. */
const aWindowLater = () => new Promise((resolve) => setTimeout(resolve, 120));

/**
 * The admitted share after three windows in a row, in each of which a turn that spent 300 ms in the service
 * (target 50) ended, sent whole or not.
 */
async function shareAfterSlowTurns(sent: boolean): Promise<number> {
  const control = admission('50');
  // A turn still in flight: a window in which nothing else ends holds the count of windows over the target.
  const longTurn = control.turnStarted(arrived(0));
  try {
    for (let window = 0; window < 3; window += 1) {
      control.turnStarted(arrived(300))(sent);
      await aWindowLater();
    }
    return control.share;
  } finally {
    longTurn(true);
    control.onApplicationShutdown();
  }
}

describe('Admission, from the turns it answered', () => {
  it('sheds once the turns answered spend longer than the target in the service, window after window', async () => {
    expect(await shareAfterSlowTurns(true)).toBeLessThan(1);
  });

  it('takes no sample from a turn whose client left before its answer (it may have been waiting on the upstream)', async () => {
    expect(await shareAfterSlowTurns(false)).toBe(1);
  });
});
