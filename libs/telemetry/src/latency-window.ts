/** The last `size` samples, for percentiles of recent behaviour (a ring buffer, O(1) to record). */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;

  constructor(size = 4096) {
    this.samples = new Float64Array(size);
  }

  record(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    this.count = Math.min(this.count + 1, this.samples.length);
  }

  /** The q-quantile (0..1) of the recorded samples, or null when there are none. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const sorted = Array.from(this.samples.subarray(0, this.count)).sort((a, b) => a - b);
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[index] ?? null;
  }

  get size(): number {
    return this.count;
  }
}
