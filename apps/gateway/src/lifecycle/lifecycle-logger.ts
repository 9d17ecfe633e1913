import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';

/** Says when the shutdown hooks start and when every one (writer flush, connections) has finished. */
@Injectable()
export class LifecycleLogger implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Gateway');

  beforeApplicationShutdown(): void {
    this.logger.log('Closing the HTTP server, then flushing and disconnecting');
  }

  onApplicationShutdown(): void {
    this.logger.log('Shutdown complete');
  }
}
