import { Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { AppConfig } from '@app/config';
import { describeRedisError } from '@app/redis';
import { CacheInspector } from '@app/session-store';
import { ApiError } from '../common/api-error';
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

  @Get('sessions/:id')
  async session(@Param('id') id: string, @Query('content') content?: string) {
    if (content === 'true' && !this.config.adminApiKey) {
      // Conversation text of every tenant: never without an admin key, whatever the deployment.
      throw new ApiError(403, 'Showing cached content needs ADMIN_API_KEY to be set.', 'permission_error', 'content');
    }
    const view = await this.redisOr503(() => this.inspector.session(id, content === 'true'));
    if (!view) throw ApiError.notFound(`No cached session for '${id}'.`, 'id');
    return view;
  }

  @Delete('sessions/:id')
  async evictSession(@Param('id') id: string) {
    return { id, evicted_keys: await this.redisOr503(() => this.inspector.evictSession(id)) };
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
      throw ApiError.unavailable(`Redis is unavailable: ${describeRedisError(error)}`, 'redis_unavailable');
    }
  }
}
