import { context, trace } from '@opentelemetry/api';
import { inSpan, startSpan, traceRequest, withActiveSpan } from './spans';
import { serviceTracer } from './tracing';

describe('span helpers with tracing off', () => {
  it('build no span and switch no context', async () => {
    expect(serviceTracer()).toBeUndefined();
    expect(startSpan('anything')).toBeUndefined();
    expect(startSpan('anything', { root: true })).toBeUndefined();
    expect(traceRequest('POST', '/v1/responses')).toBeUndefined();
    const active = context.active();
    expect(withActiveSpan(undefined, () => context.active())).toBe(active);
    await expect(
      inSpan('anything', async (span) => {
        expect(span).toBeUndefined();
        expect(trace.getActiveSpan()).toBeUndefined();
        return 42;
      }),
    ).resolves.toBe(42);
  });
});
