import { Module } from '@nestjs/common';
import { ItemReferences } from '../responses/item-references';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

@Module({
  controllers: [ConversationsController],
  providers: [ConversationsService, ItemReferences],
})
export class ConversationsModule {}
