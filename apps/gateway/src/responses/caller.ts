import { HttpStatus } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { ownerHashOf } from '@app/session-store';
import { ApiError } from '../common/api-error';

/** Who is calling: the owner of what they create, and the header passed upstream. */
export interface Caller {
  ownerHash: string;
  authorization: string;
}

/** The caller from `Authorization: Bearer <key>`; no key: 401 like OpenAI. */
export function callerOf(request: FastifyRequest): Caller {
  const header = request.headers.authorization;
  const key = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1]?.trim() : undefined;
  if (!key) {
    throw new ApiError(
      HttpStatus.UNAUTHORIZED,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      'invalid_request_error',
    );
  }
  return { ownerHash: ownerHashOf(key), authorization: `Bearer ${key}` };
}
