import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { HealthService, Readiness } from './health.service';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 ok / degraded (serving every turn); 503 down (cannot keep stored responses) or draining. */
  @Get('ready')
  ready(@Res({ passthrough: true }) reply: FastifyReply): Readiness {
    const readiness = this.health.readiness();
    void reply.status(readiness.status === 'down' || readiness.status === 'draining' ? 503 : 200);
    return readiness;
  }
}
