import { AdmissionRatio, MIN_ADMITTED } from './admission-ratio';

describe('AdmissionRatio', () => {
  it('admits everything while the turns of each window spend little time in the service', () => {
    const ratio = new AdmissionRatio(50);
    for (let window = 0; window < 10; window += 1) ratio.observe({ ownMs: 3 });
    expect(ratio.value).toBe(1);
    expect(ratio.admits(0.999)).toBe(true);
  });

  it('takes one window of long waits for a pause, not for overload', () => {
    const ratio = new AdmissionRatio(50);
    ratio.observe({ ownMs: 200 });
    ratio.observe({ ownMs: 3 });
    ratio.observe({ ownMs: 200 });
    expect(ratio.value).toBe(1);
  });

  it('sheds more in each further window with a standing queue, never everything', () => {
    const ratio = new AdmissionRatio(50);
    ratio.observe({ ownMs: 200 });
    ratio.observe({ ownMs: 200 });
    expect(ratio.value).toBeCloseTo(0.7);
    expect(ratio.admits(0.69)).toBe(true);
    expect(ratio.admits(0.71)).toBe(false);
    for (let window = 0; window < 50; window += 1) ratio.observe({ ownMs: 200 });
    expect(ratio.value).toBe(MIN_ADMITTED);
  });

  it('keeps shedding through windows in which nothing completed while turns were in flight', () => {
    const ratio = new AdmissionRatio(50);
    ratio.observe({ ownMs: 200 });
    ratio.observe({ ownMs: undefined, inFlight: true });
    ratio.observe({ ownMs: 200 });
    expect(ratio.value).toBeCloseTo(0.7);
    ratio.observe({ ownMs: undefined, inFlight: true });
    expect(ratio.value).toBeCloseTo(0.7);
  });

  it('holds between half the target and the target, and recovers step by step below it or when idle', () => {
    const ratio = new AdmissionRatio(50);
    for (let window = 0; window < 3; window += 1) ratio.observe({ ownMs: 200 });
    const shed = ratio.value;
    ratio.observe({ ownMs: 40 });
    expect(ratio.value).toBe(shed);
    ratio.observe({ ownMs: 10 });
    expect(ratio.value).toBeCloseTo(shed + 0.05);
    ratio.observe({ ownMs: undefined });
    expect(ratio.value).toBeCloseTo(shed + 0.1);
    for (let window = 0; window < 20; window += 1) ratio.observe({ ownMs: 10 });
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
