import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { parseListQuery } from '../common/list-query';
import { callerOf } from './caller';
import { isPreviousResponseNotFound } from './session.handler';
import { inputItemsPage, toResponseObject } from './response-object';
import { ResponseCaching } from './response-caching';
import { ResponsesService } from './responses.service';

@Controller('v1/responses')
export class ResponsesController {
  constructor(
    private readonly responses: ResponsesService,
    private readonly caching: ResponseCaching,
  ) {}

  /** Sends its own answer (200 JSON, or an SSE stream written as it comes); errors go to the exception filter. */
  @Post()
  @HttpCode(200)
  async create(@Body() body: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const caller = callerOf(request);
    const upstreamAbort = new AbortController();
    // The client went away before we answered: stop the upstream work.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) upstreamAbort.abort();
    });
    const sessionHeader = request.headers['x-session-id'];
    try {
      const start = () =>
        this.responses.create(
          body,
          caller,
          typeof sessionHeader === 'string' ? sessionHeader : undefined,
          upstreamAbort.signal,
          request.timing,
        );
      await this.caching.finish(start, reply);
    } catch (error) {
      if (isPreviousResponseNotFound(error)) void reply.header('x-session-cache', 'miss');
      throw error;
    }
  }

  @Get(':id')
  async retrieve(@Param('id') id: string, @Req() request: FastifyRequest) {
    return toResponseObject(await this.responses.retrieve(id, callerOf(request).ownerHash));
  }

  @Delete(':id')
  async delete(@Param('id') id: string, @Req() request: FastifyRequest) {
    await this.responses.delete(id, callerOf(request).ownerHash);
    return { id, object: 'response', deleted: true };
  }

  @Get(':id/input_items')
  async inputItems(@Param('id') id: string, @Query() query: Record<string, unknown>, @Req() request: FastifyRequest) {
    const page = parseListQuery(query);
    const response = await this.responses.retrieve(id, callerOf(request).ownerHash);
    return inputItemsPage(response.input, page);
  }
}
