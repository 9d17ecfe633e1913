/**
 * Whether the standard OTEL_* variables ask for traces: an OTLP endpoint, or a trace exporter other than
 * `none`, and not OTEL_SDK_DISABLED=true. With none of them the SDK is never loaded, so nothing is
 * patched and tracing costs nothing. Everything else (protocol, sampler, resource…) is the SDK's to read.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = listOf(env.OTEL_TRACES_EXPORTER);
  if (exporters.length > 0) return exporters[0] !== 'none';
  return isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) || isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

function listOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}
