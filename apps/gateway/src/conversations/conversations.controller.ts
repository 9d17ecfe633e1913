import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { parseListQuery } from '../common/list-query';
import { callerOf } from '../responses/caller';
import { toConversationObject } from './conversation-object';
import { ConversationsService } from './conversations.service';

/** OpenAI's Conversations API: `/v1/conversations` and their items. */
@Controller('v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @HttpCode(200)
  async create(@Body() body: unknown, @Req() request: FastifyRequest) {
    return toConversationObject(await this.conversations.create(body, callerOf(request).ownerHash));
  }

  @Get(':id')
  async retrieve(@Param('id') id: string, @Req() request: FastifyRequest) {
    return toConversationObject(await this.conversations.find(id, callerOf(request).ownerHash));
  }

  @Post(':id')
  @HttpCode(200)
  async update(@Param('id') id: string, @Body() body: unknown, @Req() request: FastifyRequest) {
    return toConversationObject(await this.conversations.update(id, body, callerOf(request).ownerHash));
  }

  @Delete(':id')
  async delete(@Param('id') id: string, @Req() request: FastifyRequest) {
    await this.conversations.delete(id, callerOf(request).ownerHash);
    return { id, object: 'conversation.deleted', deleted: true };
  }

  @Get(':id/items')
  async items(@Param('id') id: string, @Query() query: Record<string, unknown>, @Req() request: FastifyRequest) {
    return this.conversations.list(id, parseListQuery(query), callerOf(request).ownerHash);
  }

  @Post(':id/items')
  @HttpCode(200)
  async addItems(@Param('id') id: string, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.conversations.add(id, body, callerOf(request).ownerHash);
  }

  @Get(':id/items/:itemId')
  async item(@Param('id') id: string, @Param('itemId') itemId: string, @Req() request: FastifyRequest) {
    return this.conversations.item(id, itemId, callerOf(request).ownerHash);
  }

  @Delete(':id/items/:itemId')
  async deleteItem(@Param('id') id: string, @Param('itemId') itemId: string, @Req() request: FastifyRequest) {
    return toConversationObject(await this.conversations.deleteItem(id, itemId, callerOf(request).ownerHash));
  }
}
