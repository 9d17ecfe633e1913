import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { EventLoopUtilization, performance } from 'node:perf_hooks';
import { AppConfig } from '@app/config';
import { Telemetry } from '@app/telemetry';
import { ApiError } from '../common/api-error';
import { RequestTiming } from '../common/request-timing';
import { AdmissionRatio } from './admission-ratio';

/** How often the admitted share is adjusted. */
const WINDOW_MS = 100;
/** Retry-After of a refusal: 1 to 3 s at random, so refused clients do not all come back in the same second. */
export function overloadRetryAfterSeconds(): number {
  return 1 + Math.floor(Math.random() * 3);
}
/** A turn that has spent this many times the target in the service before reaching the upstream is refused there. */
const LATE_FACTOR = 4;
/** Own times kept per window for its median (plenty at any rate one process serves in 100 ms). */
const MAX_SAMPLES = 2_048;
/** A window whose event loop was busy this share of the time or more had no idle time to speak of. */
const SATURATED_UTILIZATION = 0.97;
/**
 * Below this share of the last BUSY_WINDOWS windows busy, the event loop idled at least half the time, so no turn
 * waited on it for long: a turn that still took long in the service was waiting on a dependency the timing does not
 * leave out (a slow Redis) or doing much work, not queueing. Not higher: where the service shares its cores with
 * its dependencies (the bench), an overloaded service's loop is not busy all the time, and at 0.9 it shed too late
 * (admitted p99 up to twice as long in `npm run bench -- --overload`).
 */
const BUSY_UTILIZATION = 0.5;
const BUSY_WINDOWS = 3;
/** At most one log line about shedding this often (counts in between are summed). */
const LOG_EVERY_MS = 10_000;

export const OVERLOADED_MESSAGE = 'The service is overloaded; please retry after a short wait.';
export const OVERLOADED_CODE = 'server_overloaded';

/**
 * Admission control's state, shared by the refusal at arrival (installAdmissionControl, before a body is
 * read) and the refusal at the last step before the upstream (`beforeUpstream`).
 *
 * The signal is a standing queue: the time turns spend in the service itself (their duration without
 * the upstream's, and without what PostgreSQL took for their history: a slow dependency is not overload).
 * In each 100 ms window the median of the turns answered in it steers the admitted share
 * (AdmissionRatio), when the event loop has been busy (BUSY_UTILIZATION): a queue in the service is a queue
 * for its event loop, and a loop mostly idle has none (turns slow then are waiting on Redis, say, or carry long
 * histories). A turn that reaches the upstream later than LATE_FACTOR × the target while the loop is busy is
 * refused there, as CoDel drops late packets at dequeue: a backlog admitted before the share came down drains
 * at once instead of being served seconds late. Either refusal is a 503 `server_overloaded` with `Retry-After`
 * (1–3 s), never after calling the upstream, and nothing is recorded for it.
 *
 * The other signal is on the arrival side. Node accepts one new connection per event-loop iteration, and a
 * saturated loop iterates rarely: clients opening connections (a pool growing as answers slow down) then
 * wait seconds in the kernel's accept queue, before any request of theirs reaches us, while the turns we
 * do see spend little time here (measured by `npm run bench -- --overload`: 1,600 connections queued, 40
 * accepted a second). So a window in which the loop had no idle time while new connections arrived counts
 * as overloaded too. A closed set of keep-alive connections, however busy, opens none.
 */
@Injectable()
export class Admission implements OnApplicationShutdown {
  readonly enabled: boolean;
  private readonly ratio: AdmissionRatio;
  private readonly lateMs: number;
  private readonly logger = new Logger('Admission');
  private readonly timer?: NodeJS.Timeout;
  /** Own times (ms) of the turns answered in the current window (at most MAX_SAMPLES). */
  private samples: number[] = [];
  private inFlight = 0;
  /** Whether the event loop was busy over the last windows (see BUSY_UTILIZATION). */
  private loopBusy = false;
  private connectionsAccepted = 0;
  /** The event loop's utilisation counters at the end of each of the last BUSY_WINDOWS windows, oldest first. */
  private readonly loopAtWindowEnds: EventLoopUtilization[] = [performance.eventLoopUtilization()];
  private shedSinceLog = 0;
  private firstShedAt = 0;
  private lastLog = -LOG_EVERY_MS;

  constructor(
    config: AppConfig,
    private readonly telemetry: Telemetry,
  ) {
    this.enabled = config.overloadQueueTargetMs > 0;
    this.ratio = new AdmissionRatio(config.overloadQueueTargetMs);
    this.lateMs = LATE_FACTOR * config.overloadQueueTargetMs;
    if (!this.enabled) return;
    this.timer = setInterval(() => this.endWindow(), WINDOW_MS).unref();
    telemetry.gaugeFrom('rsc_admitted_ratio', 'Share of arriving API requests admitted (1 = all)', () => this.share);
  }

  get share(): number {
    return this.ratio.value;
  }

  /** At arrival: whether to take the request on (a random draw against the share). */
  admits(): boolean {
    if (!this.enabled || this.ratio.admits(Math.random())) return true;
    this.counted();
    return false;
  }

  /**
   * A turn was admitted; the function returned is to be called once its response is over, however it ended,
   * saying whether it was sent whole. One the client left before is no sample of the service's own time: it
   * may have been waiting on the upstream, whose time is added only once the call is wound up.
   */
  turnStarted(timing: RequestTiming): (sent: boolean) => void {
    this.inFlight += 1;
    return (sent) => {
      this.inFlight -= 1;
      if (sent && this.samples.length < MAX_SAMPLES) {
        this.samples.push(performance.now() - timing.startedAt - timing.upstreamMs - timing.databaseMs);
      }
    };
  }

  /** A new client connection was accepted. */
  connectionAccepted(): void {
    this.connectionsAccepted += 1;
  }

  /**
   * The last step before the upstream: refuses a turn that has already waited too long to be worth serving,
   * while the event loop is busy (otherwise it was not waiting for the service).
   */
  beforeUpstream(timing: RequestTiming): void {
    if (!this.enabled || !this.loopBusy) return;
    if (performance.now() - timing.startedAt - timing.databaseMs <= this.lateMs) return;
    this.counted();
    throw overloaded();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private counted(): void {
    if (this.shedSinceLog++ === 0) this.firstShedAt = performance.now();
    this.telemetry.requestsShed.inc();
  }

  private endWindow(): void {
    const loopNow = performance.eventLoopUtilization();
    const ends = this.loopAtWindowEnds;
    const loop = performance.eventLoopUtilization(loopNow, ends[ends.length - 1]);
    const starved = this.connectionsAccepted > 0 && loop.utilization >= SATURATED_UTILIZATION;
    this.loopBusy = performance.eventLoopUtilization(loopNow, ends[0]).utilization >= BUSY_UTILIZATION;
    ends.push(loopNow);
    if (ends.length > BUSY_WINDOWS) ends.shift();
    this.ratio.observe({ ownMs: median(this.samples), inFlight: this.inFlight > 0, loopBusy: this.loopBusy, starved });
    this.samples = [];
    this.connectionsAccepted = 0;
    const now = performance.now();
    if (this.shedSinceLog > 0 && now - this.lastLog >= LOG_EVERY_MS) {
      this.logger.warn(
        `Overloaded: refused ${this.shedSinceLog} requests in ${((now - this.firstShedAt) / 1000).toFixed(1)} s ` +
          `(now admitting ${Math.round(this.share * 100)}%)`,
      );
      this.shedSinceLog = 0;
      this.lastLog = now;
    }
  }
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  return values[values.length >> 1];
}

function overloaded(): ApiError {
  return ApiError.refused(OVERLOADED_MESSAGE, OVERLOADED_CODE, null, overloadRetryAfterSeconds());
}
