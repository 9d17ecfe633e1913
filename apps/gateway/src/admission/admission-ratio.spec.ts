import { AdmissionRatio, MIN_ADMITTED } from './admission-ratio';

/** A window whose turns spent `ownMs` in the service, on a busy event loop. */
const busy = (ownMs: number | undefined, inFlight = false) => ({ ownMs, inFlight, loopBusy: true });

describe('AdmissionRatio', () => {
  it('admits everything while the turns of each window spend little time in the service', () => {
    const ratio = new AdmissionRatio(50);
    for (let window = 0; window < 10; window += 1) ratio.observe({ ownMs: 3 });
    expect(ratio.value).toBe(1);
    expect(ratio.admits(0.999)).toBe(true);
  });

  it('takes one window of long waits for a pause, not for overload', () => {
    const ratio = new AdmissionRatio(50);
    ratio.observe(busy(200));
    ratio.observe(busy(3));
    ratio.observe(busy(200));
    expect(ratio.value).toBe(1);
  });

  it('does not shed for long turns on an event loop mostly idle: they were working or waiting on a dependency', () => {
    const ratio = new AdmissionRatio(50);
    for (let window = 0; window < 10; window += 1) ratio.observe({ ownMs: 200, loopBusy: false });
    expect(ratio.value).toBe(1);
    ratio.observe(busy(200));
    ratio.observe(busy(200));
    expect(ratio.value).toBeCloseTo(0.7);
    // Back to idle time: no queue, whatever the turns took, so the share recovers step by step.
    ratio.observe({ ownMs: 200, loopBusy: false });
    expect(ratio.value).toBeCloseTo(0.75);
    ratio.observe({ ownMs: undefined, inFlight: true, loopBusy: false });
    expect(ratio.value).toBeCloseTo(0.8);
  });

  it('sheds more in each further window with a standing queue, never everything', () => {
    const ratio = new AdmissionRatio(50);
    ratio.observe(busy(200));
    ratio.observe(busy(200));
    expect(ratio.value).toBeCloseTo(0.7);
    expect(ratio.admits(0.69)).toBe(true);
    expect(ratio.admits(0.71)).toBe(false);
    for (let window = 0; window < 50; window += 1) ratio.observe(busy(200));
    expect(ratio.value).toBe(MIN_ADMITTED);
  });

  it('keeps shedding through windows in which nothing completed while turns were in flight', () => {
    const ratio = new AdmissionRatio(50);
    ratio.observe(busy(200));
    ratio.observe(busy(undefined, true));
    ratio.observe(busy(200));
    expect(ratio.value).toBeCloseTo(0.7);
    ratio.observe(busy(undefined, true));
    expect(ratio.value).toBeCloseTo(0.7);
  });

  it('holds between half the target and the target on a busy loop, and recovers step by step below it or when idle', () => {
    const ratio = new AdmissionRatio(50);
    for (let window = 0; window < 3; window += 1) ratio.observe(busy(200));
    const shed = ratio.value;
    ratio.observe(busy(40));
    expect(ratio.value).toBe(shed);
    ratio.observe(busy(10));
    expect(ratio.value).toBeCloseTo(shed + 0.05);
    ratio.observe({ ownMs: undefined });
    expect(ratio.value).toBeCloseTo(shed + 0.1);
    for (let window = 0; window < 20; window += 1) ratio.observe(busy(10));
    expect(ratio.value).toBe(1);
  });

  it('sheds while new connections starve on a loop with no idle time, though each request’s own time is short', () => {
    const ratio = new AdmissionRatio(50);
    ratio.observe({ ownMs: 3, starved: true });
    expect(ratio.value).toBe(1);
    ratio.observe({ ownMs: undefined, inFlight: true, starved: true });
    expect(ratio.value).toBeCloseTo(0.7);
    ratio.observe({ ownMs: 3, starved: true });
    expect(ratio.value).toBeCloseTo(0.49);
    ratio.observe({ ownMs: 3 });
    expect(ratio.value).toBeCloseTo(0.54);
  });
});
