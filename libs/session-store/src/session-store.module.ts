import { Global, Module } from '@nestjs/common';
import { ResponseCache } from './response-cache';
import { ResponseRepository } from './response-repository';
import { SpendLogWriter } from './spend-log.writer';

@Global()
@Module({
  providers: [ResponseCache, ResponseRepository, SpendLogWriter],
  exports: [ResponseCache, ResponseRepository, SpendLogWriter],
})
export class SessionStoreModule {}
