/**
 * The floor again, as a NestJS app (Fastify adapter): the same passthrough in a controller, so the
 * benchmark can tell what Nest's request pipeline alone costs against `floor-proxy.ts`. Run as its
 * own process by the benchmark.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply, FastifyRequest } from 'fastify';
import { forward, UPSTREAM } from './passthrough';

const port = Number(process.env.FLOOR_PORT ?? 8091);

@Controller()
class PassthroughController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Post('*')
  forward(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return forward(req, reply);
  }
}

@Module({ controllers: [PassthroughController] })
class PassthroughModule {}

async function main(): Promise<void> {
  const adapter = new FastifyAdapter({ bodyLimit: 64 * 1024 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(PassthroughModule, adapter, {
    logger: ['error', 'warn'],
    bodyParser: false,
  });
  // The body passed through untouched, as in floor-proxy.ts.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  await app.listen(port, '127.0.0.1');
  console.log(`nest floor proxy on ${port} -> ${UPSTREAM}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
