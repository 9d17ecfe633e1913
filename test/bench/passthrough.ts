/**
 * What both floors do with a request (`floor-proxy.ts` on bare Fastify, `nest-floor.ts` in NestJS):
 * the body passed through untouched to FLOOR_UPSTREAM over keep-alive undici, the answer streamed back.
 */
import { Readable } from 'node:stream';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request } from 'undici';

export const UPSTREAM = process.env.FLOOR_UPSTREAM ?? 'http://127.0.0.1:4000';
const agent = new Agent({ keepAliveTimeout: 30_000, connections: null });

/** Sends the request on upstream, sets the answer's status and content type; resolves with its body. */
export async function forward(req: FastifyRequest, reply: FastifyReply): Promise<Readable> {
  const response = await request(`${UPSTREAM}${req.url}`, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      'content-type': 'application/json',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    },
    body: req.body as Buffer,
  });
  void reply
    .status(response.statusCode)
    .header('content-type', String(response.headers['content-type'] ?? 'application/json'));
  return response.body;
}
