import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '@app/config';
import { ApiError } from '../common/api-error';

/** With ADMIN_API_KEY set, the guarded endpoints need it as `Authorization: Bearer <key>` (or `x-admin-key`). */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(config: AppConfig) {
    this.expected = config.adminApiKey ? digest(config.adminApiKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
    const header = request.headers['x-admin-key'];
    const given = bearer ?? (typeof header === 'string' ? header : undefined);
    if (given !== undefined && timingSafeEqual(digest(given), this.expected)) return true;
    throw new ApiError(
      HttpStatus.UNAUTHORIZED,
      'This endpoint needs the ADMIN_API_KEY, as Authorization: Bearer <key> or x-admin-key.',
      'authentication_error',
    );
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
