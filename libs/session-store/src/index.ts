export * from './cache-keys';
export * from './ids';
export * from './response-cache';
export * from './response-items';
export * from './response-repository';
export * from './session-store.module';
export * from './spend-log.writer';
export * from './stored-response';
