import type { Readable } from 'node:stream';

const EVENT_BOUNDARY = /\r?\n\r?\n/;

/**
 * Splits a server-sent event stream into each event's `data` (multi-line data joined by newlines), chunk
 * by chunk. Comments and other fields are skipped; `[DONE]` is returned like any data.
 */
export class SseDataParser {
  private readonly decoder = new TextDecoder();
  private buffer = '';

  /** The data of each event this chunk completes. */
  push(chunk: Buffer | Uint8Array | string): string[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const events: string[] = [];
    let boundary: RegExpExecArray | null;
    while ((boundary = EVENT_BOUNDARY.exec(this.buffer)) !== null) {
      const data = dataOf(this.buffer.slice(0, boundary.index));
      this.buffer = this.buffer.slice(boundary.index + boundary[0].length);
      if (data !== undefined) events.push(data);
    }
    return events;
  }

  /** The data of a last event the stream ended without a blank line after. */
  end(): string[] {
    const data = dataOf(this.buffer + this.decoder.decode());
    this.buffer = '';
    return data === undefined ? [] : [data];
  }
}

/** What reading an SSE body reports. `data` returns false once it wants no more (nothing else is reported then). */
export interface SseReader {
  data(data: string): boolean;
  /** The body ended (after its last `data`). */
  end(): void;
  /** Reading failed: the body errored or closed before its end, or `data` threw. */
  error(error: unknown): void;
}

/**
 * Reads an SSE body as its chunks arrive and reports exactly one of `end` or `error`, unless `data`
 * stopped it first. Events rather than `for await`: async iteration costs a generator, promises per
 * chunk and an end-of-stream watcher for every open stream (docs/performance.md).
 */
export function readSse(body: Readable, reader: SseReader): void {
  const parser = new SseDataParser();
  let done = false;
  const deliver = (events: string[]): boolean => {
    for (const data of events) {
      if (!reader.data(data)) {
        done = true;
        return false;
      }
    }
    return true;
  };
  const fail = (error: unknown) => {
    if (done) return;
    done = true;
    reader.error(error);
  };
  body.on('data', (chunk: Buffer | string) => {
    if (done) return;
    try {
      deliver(parser.push(chunk));
    } catch (error) {
      fail(error);
    }
  });
  body.on('end', () => {
    if (done) return;
    try {
      if (!deliver(parser.end())) return;
    } catch (error) {
      fail(error);
      return;
    }
    done = true;
    reader.end();
  });
  // Kept for the body's whole life: an 'error' nobody listens to would crash the process.
  body.on('error', fail);
  body.on('close', () => fail(prematureClose()));
  // Closed before we listened: its 'error' and 'close' have been and gone.
  if (body.closed) fail(body.errored ?? prematureClose());
}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

function dataOf(block: string): string | undefined {
  const lines = block
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
  return lines.length > 0 ? lines.join('\n') : undefined;
}
