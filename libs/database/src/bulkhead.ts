/** Thrown by Bulkhead.run when as many callers already wait as it lets wait, or a caller waited too long. */
export class BulkheadFull extends Error {
  constructor(reason: string) {
    super(reason);
  }
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

/**
 * At most `limit` runs at a time, at most `maxWaiting` callers waiting for a turn (first come, first
 * served) and each for at most `maxWaitMs`; beyond that, refused. Keeps one kind of work from taking
 * all of a shared resource (pooled PostgreSQL connections) and from queueing without end.
 */
export class Bulkhead {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
    readonly maxWaitMs: number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active += 1;
    else await this.turn();
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.start();
      } else {
        this.active -= 1;
      }
    }
  }

  private turn(): Promise<void> {
    if (this.waiting.length >= this.maxWaiting) return Promise.reject(new BulkheadFull('too many waiting'));
    return new Promise<void>((resolve, reject) => {
      // Given up after the loop's next I/O phase (timers run first in each iteration): on a busy loop, a
      // slot that a finished query freed in time still goes to this caller instead of a refusal.
      const giveUp = () => {
        const at = this.waiting.indexOf(waiter);
        if (at === -1) return; // it got the slot meanwhile
        this.waiting.splice(at, 1);
        reject(new BulkheadFull(`waited over ${this.maxWaitMs} ms`));
      };
      const waiter: Waiter = { start: resolve, timer: setTimeout(() => setImmediate(giveUp), this.maxWaitMs) };
      this.waiting.push(waiter);
    });
  }
}
