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

/** Keeps the event loop busy (no idle time) for `ms`. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** Lets the window that is due end (its timer runs before this one). */
const nextWindow = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Ends a window in which the event loop had no idle time. */
async function aBusyWindow(): Promise<void> {
  busyFor(130);
  await nextWindow();
}

/** Ends enough windows with no idle time for the event loop to count as busy (it is judged over several). */
async function aBusyLoop(): Promise<void> {
  for (let window = 0; window < 3; window += 1) await aBusyWindow();
}

/** The error `beforeUpstream` threw for this turn, or undefined. */
function refusalOf(control: Admission, turn: ReturnType<typeof arrived>): unknown {
  try {
    control.beforeUpstream(turn);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('Admission, at the last step before the upstream', () => {
  it('refuses a turn that waited over four times the target on a busy event loop, with a retryable 503', async () => {
    const control = admission('50');
    try {
      await aBusyLoop();
      expect(refusalOf(control, arrived(10))).toBeUndefined();
      const refused = refusalOf(control, arrived(300));
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

  it('does not count what PostgreSQL took as the service’s own wait', async () => {
    const control = admission('50');
    try {
      await aBusyLoop();
      expect(refusalOf(control, arrived(300, 290))).toBeUndefined();
    } finally {
      control.onApplicationShutdown();
    }
  });

  it('does not refuse a late turn while the event loop is mostly idle: it was waiting on a dependency, not the service', async () => {
    const control = admission('50');
    try {
      await nextWindow();
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(refusalOf(control, arrived(300))).toBeUndefined();
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

/**
 * The admitted share after three windows in a row with no idle time, in each of which a turn that spent 300 ms
 * in the service (target 50) ended, sent whole or not.
 */
async function shareAfterSlowTurns(sent: boolean): Promise<number> {
  const control = admission('50');
  // A turn still in flight: a window in which nothing else ends holds the count of windows over the target.
  const longTurn = control.turnStarted(arrived(0));
  try {
    for (let window = 0; window < 3; window += 1) {
      control.turnStarted(arrived(300))(sent);
      await aBusyWindow();
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
