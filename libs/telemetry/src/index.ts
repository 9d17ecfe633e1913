export * from './latency-window';
export * from './spans';
export * from './telemetry';
export * from './telemetry.module';
export * from './trace-names';
export * from './tracing';
