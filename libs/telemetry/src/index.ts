export * from './latency-window';
export * from './telemetry';
export * from './telemetry.module';
