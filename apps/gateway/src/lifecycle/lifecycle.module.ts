import { Global, Module } from '@nestjs/common';
import { DrainState } from './drain-state';
import { LifecycleLogger } from './lifecycle-logger';

/** Process lifecycle: the drain state (readiness, recording) and the shutdown log lines. */
@Global()
@Module({ providers: [DrainState, LifecycleLogger], exports: [DrainState] })
export class LifecycleModule {}
