import { Writable } from 'node:stream';
import { JsonLogger } from './json-logger';

function capture(level = 'info'): { logger: JsonLogger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = new JsonLogger(level, destination);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('JsonLogger', () => {
  it('writes one JSON object a line with level, time, context and message', () => {
    const { logger, lines } = capture();
    logger.log('Connected to redis://127.0.0.1:6379/0', 'Redis');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 30,
        context: 'Redis',
        msg: 'Connected to redis://127.0.0.1:6379/0',
        time: expect.any(String),
      }),
    ]);
  });

  it('keeps the fields of structured messages', () => {
    const { logger, lines } = capture();
    logger.log({ msg: 'request', request_id: 'r1', status: 200, duration_ms: 1.5 }, 'HTTP');
    expect(lines()[0]).toMatchObject({
      msg: 'request',
      context: 'HTTP',
      request_id: 'r1',
      status: 200,
      duration_ms: 1.5,
    });
  });

  it('honours the level and keeps error stacks', () => {
    const { logger, lines } = capture('warn');
    logger.log('hidden', 'X');
    logger.error('boom', 'Error: boom\n    at somewhere', 'Errors');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 50,
        msg: 'boom',
        context: 'Errors',
        stack: expect.stringContaining('at somewhere'),
      }),
    ]);
  });
});
