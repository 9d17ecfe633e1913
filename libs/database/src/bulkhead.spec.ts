import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Bulkhead, BulkheadFull } from './bulkhead';

function gate(): { open: () => void; opened: Promise<void> } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('Bulkhead', () => {
  it('runs at most `limit` at once, lets `maxWaiting` wait in order, and refuses the rest at once', async () => {
    const bulkhead = new Bulkhead(2, 1, 60_000);
    const gates = [gate(), gate(), gate()];
    const order: number[] = [];
    const runs = gates.map((g, index) =>
      bulkhead.run(async () => {
        order.push(index);
        await g.opened;
        return index;
      }),
    );
    await Promise.resolve();
    expect(bulkhead.running).toBe(2);
    expect(bulkhead.queued).toBe(1);
    await expect(bulkhead.run(async () => 'late')).rejects.toBeInstanceOf(BulkheadFull);
    expect(order).toEqual([0, 1]);

    gates[0].open();
    expect(await runs[0]).toBe(0);
    await Promise.resolve();
    expect(order).toEqual([0, 1, 2]);
    gates[1].open();
    gates[2].open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(bulkhead.running).toBe(0);
  });

  it('refuses a caller that waited longer than maxWaitMs, and keeps the slot count right', async () => {
    jest.useFakeTimers();
    try {
      const bulkhead = new Bulkhead(1, 5, 1_000);
      const held = gate();
      const first = bulkhead.run(() => held.opened);
      const second = bulkhead.run(async () => 'never');
      jest.advanceTimersByTime(1_001);
      await expect(second).rejects.toThrow('waited over 1000 ms');
      expect(bulkhead.queued).toBe(0);
      held.open();
      await first;
      expect(bulkhead.running).toBe(0);
      await expect(bulkhead.run(async () => 'again')).resolves.toBe('again');
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives a slot freed in time to the waiter even when the loop got to it after the deadline', async () => {
    // The running work ends on real I/O (another process echoing a line) that arrives while the loop is busy
    // past the waiter's deadline: the slot must pass to the waiter, not the waiter be refused.
    const echo = spawn('cat');
    try {
      const bulkhead = new Bulkhead(1, 5, 50);
      const first = bulkhead.run(async () => {
        echo.stdin.write('ping\n');
        await once(echo.stdout, 'data');
        return 'first';
      });
      const second = bulkhead.run(async () => 'second');
      await new Promise((resolve) => setImmediate(resolve)); // the line is written
      const busyUntil = Date.now() + 200;
      while (Date.now() < busyUntil) {
        // the loop is blocked; the echo arrives meanwhile
      }
      await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
    } finally {
      echo.kill();
    }
  });

  it('frees the slot when the work throws', async () => {
    const bulkhead = new Bulkhead(1, 0, 60_000);
    await expect(bulkhead.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(bulkhead.run(async () => 'next')).resolves.toBe('next');
  });
});
