export * from './app-config';
export * from './config-error';
export * from './config.module';
export { redactUrl } from './env-parsers';
export * from './redis-target';
export * from './redis-topology';
