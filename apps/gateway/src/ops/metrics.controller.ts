import { Controller, Get, Header } from '@nestjs/common';
import { Telemetry } from '@app/telemetry';

/** Prometheus text format; open like the health endpoints, labels are bounded. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly telemetry: Telemetry) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    return this.telemetry.registry.metrics();
  }
}
