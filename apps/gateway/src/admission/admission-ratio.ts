/** The least share admitted while overloaded: enough requests still run to see the queue go. */
export const MIN_ADMITTED = 0.02;
const DECREASE = 0.7;
const INCREASE = 0.05;

/**
 * The share of arriving API requests admitted, steered by a standing queue: once per window, the median
 * time the requests completed in it spent in the service itself (their duration minus the upstream's).
 * A queue that holds most requests longer than the target is overload. The share is cut by 30% in each window that shows one, from the second such window in a row
 * on (one long GC pause is not overload), and raised by 5 points in each window under half the target or
 * idle (nothing completed, nothing in flight). A window in which nothing completed while turns are in
 * flight says nothing new: the share and the run of over-target windows hold. Multiplicative decrease sheds a surge within a few windows; additive increase
 * finds the service's capacity again without overshooting.
 */
export class AdmissionRatio {
  private share = 1;
  private overBefore = false;

  constructor(private readonly targetMs: number) {}

  get value(): number {
    return this.share;
  }

  /**
   * One window: the median own time (ms) of the requests completed in it (undefined when none completed),
   * and whether any are in flight at its end.
   */
  observe(ownMs: number | undefined, inFlight = false): void {
    if (ownMs === undefined && inFlight) return;
    const over = ownMs !== undefined && ownMs > this.targetMs;
    if (over && this.overBefore) this.share = Math.max(MIN_ADMITTED, this.share * DECREASE);
    else if (ownMs === undefined || ownMs < this.targetMs / 2) this.share = Math.min(1, this.share + INCREASE);
    this.overBefore = over;
  }

  /** Whether to admit one request (`draw`: a uniform number in [0, 1)). */
  admits(draw: number): boolean {
    return this.share >= 1 || draw < this.share;
  }
}
