import { CIRCUIT_COOLDOWN_MS, CIRCUIT_FAILURE_THRESHOLD, CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const breaker = () => new CircuitBreaker(() => now);
  beforeEach(() => (now = 1_000_000));

  it('opens after the threshold of consecutive failures, not before; a success in between resets the count', () => {
    const circuit = breaker();
    for (let i = 1; i < CIRCUIT_FAILURE_THRESHOLD; i += 1) expect(circuit.recordFailure()).toBe(false);
    circuit.recordSuccess();
    for (let i = 1; i < CIRCUIT_FAILURE_THRESHOLD; i += 1) circuit.recordFailure();
    expect(circuit.isOpen).toBe(false);
    expect(circuit.recordFailure()).toBe(true);
    expect(circuit.isOpen).toBe(true);
  });

  it('lets one probe through after the cool-down; a failed probe waits another cool-down, a good one closes it', () => {
    const circuit = breaker();
    for (let i = 0; i < CIRCUIT_FAILURE_THRESHOLD; i += 1) circuit.recordFailure();
    expect(circuit.takeProbe()).toBe(false);
    now += CIRCUIT_COOLDOWN_MS;
    expect(circuit.takeProbe()).toBe(true);
    expect(circuit.takeProbe()).toBe(false); // one at a time
    expect(circuit.probed(false)).toBe(false);
    expect(circuit.isOpen).toBe(true);
    expect(circuit.takeProbe()).toBe(false);
    now += CIRCUIT_COOLDOWN_MS;
    expect(circuit.takeProbe()).toBe(true);
    expect(circuit.probed(true)).toBe(true);
    expect(circuit.isOpen).toBe(false);
  });

  it('closes when the connection is ready again', () => {
    const circuit = breaker();
    for (let i = 0; i < CIRCUIT_FAILURE_THRESHOLD; i += 1) circuit.recordFailure();
    expect(circuit.reset()).toBe(true);
    expect(circuit.isOpen).toBe(false);
  });
});
