import { Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { AppConfig } from '@app/config';
import { describeRedisError, RedisService } from '@app/redis';
import { CacheInspector, sessionTagOf } from '@app/session-store';
import { ApiError } from '../common/api-error';
import { shownId } from '../common/shown-id';
import { AdminGuard } from './admin.guard';
import { CachePing, PingResult } from './cache-ping';
import { CacheStats } from './cache-stats';

/** What the cache does and holds, for operators (ADMIN_API_KEY when set). Evictions touch Redis only. */
@Controller('cache')
@UseGuards(AdminGuard)
export class CacheController {
  constructor(
    private readonly ping: CachePing,
    private readonly stats: CacheStats,
    private readonly inspector: CacheInspector,
    private readonly config: AppConfig,
    private readonly redis: RedisService,
  ) {}

  @Get('ping')
  async pingCache(@Res({ passthrough: true }) reply: FastifyReply): Promise<PingResult> {
    const result = await this.ping.run();
    void reply.status(result.status === 'ok' ? 200 : 503);
    return result;
  }

  @Get('stats')
  async cacheStats() {
    return this.stats.collect();
  }

  /** `id`: any response id of the session, or its session id with `owner` (the owner hash: sessions are per tenant). */
  @Get('sessions/:id')
  async session(@Param('id') id: string, @Query('owner') owner?: string, @Query('content') content?: string) {
    if (content === 'true' && !this.config.adminApiKey) {
      // Conversation text of every tenant: never without an admin key, whatever the deployment.
      throw new ApiError(403, 'Showing cached content needs ADMIN_API_KEY to be set.', 'permission_error', 'content');
    }
    const tag = sessionTag(id, owner);
    const view = await this.redisOr503(() => this.inspector.session(tag, content === 'true'));
    if (!view) throw ApiError.notFound(`No cached session for '${id}'.`, 'id');
    return view;
  }

  @Delete('sessions/:id')
  async evictSession(@Param('id') id: string, @Query('owner') owner?: string) {
    const tag = sessionTag(id, owner);
    return { id, evicted_keys: await this.redisOr503(() => this.inspector.evictSession(tag)) };
  }

  @Post('flush')
  @HttpCode(200)
  async flush() {
    return { prefix: this.inspector.keys.prefix, evicted_keys: await this.redisOr503(() => this.inspector.flush()) };
  }

  private async redisOr503<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw ApiError.unavailable(
        `Redis is unavailable: ${describeRedisError(error, this.redis.errorContext)}`,
        'redis_unavailable',
      );
    }
  }
}

/** The session's tag, or 400 when a session id comes without its owner. */
function sessionTag(id: string, owner: string | undefined): string {
  if (owner !== undefined && !/^[0-9a-f]{64}$/.test(owner)) {
    throw ApiError.invalidRequest("Invalid 'owner': the owner hash is 64 lowercase hex characters.", 'owner');
  }
  const tag = sessionTagOf(id, owner);
  if (tag === undefined) {
    throw ApiError.invalidRequest(
      `'${shownId(id)}' is not a response id. Sessions are per tenant: name a session by one of its response ids, ` +
        'or by its session id with ?owner=<owner hash> (the owner_hash column of the responses table).',
      'owner',
    );
  }
  return tag;
}
