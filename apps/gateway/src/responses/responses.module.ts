import { Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ItemReferences } from './item-references';
import { ResponseCaching } from './response-caching';
import { ResponsesController } from './responses.controller';
import { ResponsesService } from './responses.service';
import { SessionHandler } from './session.handler';
import { ChatUpstream } from './upstream/chat.upstream';
import { ResponsesUpstream } from './upstream/responses.upstream';
import { UPSTREAM_ADAPTER } from './upstream/upstream-adapter';
import { UpstreamClient } from './upstream/upstream.client';

@Module({
  controllers: [ResponsesController],
  providers: [
    ResponsesService,
    SessionHandler,
    ItemReferences,
    UpstreamClient,
    ChatUpstream,
    ResponsesUpstream,
    ResponseCaching,
    {
      provide: UPSTREAM_ADAPTER,
      inject: [AppConfig, ChatUpstream, ResponsesUpstream],
      useFactory: (config: AppConfig, chat: ChatUpstream, responses: ResponsesUpstream) =>
        config.upstreamApi === 'chat' ? chat : responses,
    },
  ],
})
export class ResponsesModule {}
