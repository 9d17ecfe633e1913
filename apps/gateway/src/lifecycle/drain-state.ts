import { Injectable } from '@nestjs/common';

/**
 * Whether this replica is draining (SIGTERM received): readiness then says 503 `draining` at once, so
 * load balancers stop sending new work while the requests and streams in flight finish. Also counts
 * the turns not yet recorded, so that the shutdown waits for them before the writer's last flush.
 */
@Injectable()
export class DrainState {
  private drainingNow = false;
  private open = 0;
  private onIdle: Array<() => void> = [];

  get draining(): boolean {
    return this.drainingNow;
  }

  /** Why a turn cut off now is cancelled: the service is shutting down, or else its client left. */
  get cancelCause(): 'shutdown' | 'client' {
    return this.drainingNow ? 'shutdown' : 'client';
  }

  get openTurns(): number {
    return this.open;
  }

  begin(): void {
    this.drainingNow = true;
  }

  /** A turn started; call the result once it is recorded (whatever its outcome). */
  track(): () => void {
    this.open += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.open -= 1;
      if (this.open === 0) this.onIdle.splice(0).forEach((resolve) => resolve());
    };
  }

  /** Resolves once no turn is open, or after `maxMs`. */
  async settled(maxMs: number): Promise<void> {
    if (this.open === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.onIdle.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs))),
    ]);
    clearTimeout(timer);
  }
}
