import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

/** Says when a shutdown starts and when every hook (writer flush, connections) has finished. */
@Injectable()
export class LifecycleLogger implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Gateway');

  beforeApplicationShutdown(signal?: string): void {
    this.logger.log(signal ? `Received ${signal}, shutting down` : 'Shutting down');
  }

  onApplicationShutdown(): void {
    this.logger.log('Shutdown complete');
  }
}
