/** The least share admitted while overloaded: enough requests still run to see the queue go. */
export const MIN_ADMITTED = 0.02;
const DECREASE = 0.7;
const INCREASE = 0.05;

/** What one window showed. */
export interface AdmissionWindow {
  /** The median own time (ms) of the requests completed in it; undefined when none completed. */
  ownMs: number | undefined;
  /** Whether any request was in flight at its end. */
  inFlight?: boolean;
  /**
   * Whether the event loop was busy (Admission: at least half the time, lately). Own times over the target count
   * only then: on a loop mostly idle there is no queue in the service, so they were work or waits on a dependency.
   */
  loopBusy?: boolean;
  /**
   * Whether new connections were waiting on an event loop with no idle time: a queue no request's own
   * time shows (see Admission).
   */
  starved?: boolean;
}

/**
 * The share of arriving API requests admitted, steered by a standing queue: once per window, the median
 * time the requests completed in it spent in the service itself (their duration minus the upstream's),
 * and whether new connections were starved. A queue that holds most requests longer than the target on a
 * busy event loop, or starved connections, is overload. The share is cut by 30% in each window
 * that shows one, from the second such window in a row on (one long GC pause, or one burst of connections, is
 * not overload). It is raised by 5 points in each window that starved nothing and was under half the target,
 * idle (nothing completed, nothing in flight) or on a loop that was not busy: then there is no queue, whatever
 * the turns took (long histories, a slow Redis). A window in which nothing completed while turns are in flight
 * on a busy loop says nothing new: the share and the run of overloaded windows hold. Multiplicative decrease
 * sheds a surge within a few windows; additive increase finds the service's capacity again without overshooting.
 */
export class AdmissionRatio {
  private share = 1;
  private overBefore = false;

  constructor(private readonly targetMs: number) {}

  get value(): number {
    return this.share;
  }

  observe({ ownMs, inFlight = false, loopBusy = false, starved = false }: AdmissionWindow): void {
    if (ownMs === undefined && inFlight && loopBusy && !starved) return;
    const over = starved || (loopBusy && ownMs !== undefined && ownMs > this.targetMs);
    if (over && this.overBefore) this.share = Math.max(MIN_ADMITTED, this.share * DECREASE);
    else if (!over && (!loopBusy || ownMs === undefined || ownMs < this.targetMs / 2))
      this.share = Math.min(1, this.share + INCREASE);
    this.overBefore = over;
  }

  /** Whether to admit one request (`draw`: a uniform number in [0, 1)). */
  admits(draw: number): boolean {
    return this.share >= 1 || draw < this.share;
  }
}
