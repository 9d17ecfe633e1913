import { Link, Span } from '@opentelemetry/api';
import { ATTRIBUTES, inSpan, markFailed, SPAN_NAMES, startSpan } from '@app/telemetry';
import { RefusedRow } from './row-inserter';
import { StoredResponse } from './stored-response';

/** A queued row and, when its turn is traced, its durable-write span (open until the row is in PostgreSQL). */
export interface TracedRow {
  response: StoredResponse;
  span: Span | undefined;
}

/** The durable-write span of a row queued for the writer's next batch, under the traced turn that queued it. */
export function startBatchedDurableWrite(): Span | undefined {
  const span = startSpan(SPAN_NAMES.durableWrite);
  span?.setAttribute(ATTRIBUTES.durableWriteMode, 'batch');
  return span;
}

/**
 * Runs a batch's INSERT. One batch serves many turns of many traces: when some are traced, it gets a trace of
 * its own (not a child of whichever turn happened to trigger it), linked to their durable-write spans.
 */
export function insertTraced<T>(batch: TracedRow[], insert: () => Promise<T>): Promise<T> {
  let links: Link[] | undefined;
  for (const { span } of batch) if (span) (links ??= []).push({ context: span.spanContext() });
  if (links === undefined) return insert();
  const rows = batch.length;
  return inSpan(
    SPAN_NAMES.spendLogFlush,
    async (span) => {
      span?.setAttribute(ATTRIBUTES.spendLogRows, rows);
      return insert();
    },
    { root: true, links },
  );
}

/** The batch is in PostgreSQL: its rows' durable writes are done (failed for good for refused rows). */
export function endDurableWrites(batch: TracedRow[], refused: RefusedRow[]): void {
  for (const { span, response } of batch) {
    if (!span) continue;
    if (refused.some(({ row }) => row === response)) markFailed(span, 'row_refused');
    span.end();
  }
}

/** Rows still queued when the service stops: their durable write did not happen here (the journal keeps them). */
export function abandonDurableWrites(rows: TracedRow[]): void {
  for (const { span } of rows) {
    markFailed(span, 'not_written_before_shutdown');
    span?.end();
  }
}
