/** Consecutive failed Redis calls that open the circuit. */
export const CIRCUIT_FAILURE_THRESHOLD = 5;
/** How long an open circuit skips Redis before a probe may close it. */
export const CIRCUIT_COOLDOWN_MS = 1_000;

/**
 * The Redis circuit breaker's state: after CIRCUIT_FAILURE_THRESHOLD consecutive failures, calls are
 * skipped (they fail at once instead of each waiting out its timeout) until a probe succeeds, tried
 * no sooner than CIRCUIT_COOLDOWN_MS after the circuit opened or the last probe failed.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private lastProbeAt = 0;
  private probing = false;

  constructor(private readonly now: () => number = Date.now) {}

  get isOpen(): boolean {
    return this.openedAt !== null;
  }

  /** Since when it is open (Unix ms), or null. */
  get openSince(): number | null {
    return this.openedAt;
  }

  /** Resolves true when the failure opened the circuit. */
  recordFailure(): boolean {
    this.failures += 1;
    if (this.openedAt !== null || this.failures < CIRCUIT_FAILURE_THRESHOLD) return false;
    this.openedAt = this.now();
    this.lastProbeAt = this.openedAt;
    return true;
  }

  recordSuccess(): void {
    this.failures = 0;
  }

  /** Whether a probe should run now (open, cooled down, none running); marks it as running. */
  takeProbe(): boolean {
    if (this.openedAt === null || this.probing || this.now() - this.lastProbeAt < CIRCUIT_COOLDOWN_MS) return false;
    this.probing = true;
    this.lastProbeAt = this.now();
    return true;
  }

  /** The probe's outcome: success closes the circuit; resolves true when it did. */
  probed(ok: boolean): boolean {
    this.probing = false;
    if (!ok || this.openedAt === null) return false;
    this.openedAt = null;
    this.failures = 0;
    return true;
  }

  /** The connection is (again) ready: whatever was wrong, try Redis again. */
  reset(): boolean {
    const wasOpen = this.openedAt !== null;
    this.openedAt = null;
    this.failures = 0;
    this.probing = false;
    return wasOpen;
  }
}
