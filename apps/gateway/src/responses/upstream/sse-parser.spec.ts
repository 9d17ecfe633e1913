import { PassThrough } from 'node:stream';
import { readSse, SseDataParser } from './sse-parser';

function parse(chunks: string[]): string[] {
  const parser = new SseDataParser();
  return [...chunks.flatMap((chunk) => parser.push(Buffer.from(chunk))), ...parser.end()];
}

/** Feeds `chunks` through a stream into readSse; resolves what it reported, in order. */
function read(chunks: string[], ending: 'end' | 'error' | 'close', stopAt?: string): Promise<string[]> {
  return new Promise((resolve) => {
    const body = new PassThrough();
    const reported: string[] = [];
    const settle = () => setImmediate(() => resolve(reported));
    readSse(body, {
      data: (data) => {
        reported.push(data);
        if (data !== stopAt) return true;
        settle();
        return false;
      },
      end: () => {
        reported.push('(end)');
        settle();
      },
      error: (error) => {
        reported.push(`(error: ${(error as Error).message})`);
        settle();
      },
    });
    for (const chunk of chunks) body.write(chunk);
    if (ending === 'end') body.end();
    else if (ending === 'error') body.destroy(new Error('socket hang up'));
    else body.destroy();
  });
}

describe('SseDataParser', () => {
  it('returns each event data, across chunk boundaries and CRLF framing, skipping comments and other fields', () => {
    expect(parse(['data: {"a":', '1}\n\n: keep-alive\n\nevent: x\r\nda', 'ta: two\r\n\r\ndata: [DONE]\n\n'])).toEqual([
      '{"a":1}',
      'two',
      '[DONE]',
    ]);
  });

  it('joins multi-line data and keeps a last event without a blank line', () => {
    expect(parse(['data: line1\ndata: line2\n\ndata:tail'])).toEqual(['line1\nline2', 'tail']);
  });

  it('decodes a character split between chunks', () => {
    const bytes = Buffer.from('data: héllo\n\n');
    const parser = new SseDataParser();
    expect([...parser.push(bytes.subarray(0, 8)), ...parser.push(bytes.subarray(8))]).toEqual(['héllo']);
  });
});

describe('readSse', () => {
  it('reports each data as it arrives, then the end', async () => {
    expect(await read(['data: one\n\ndata: t', 'wo\n\n'], 'end')).toEqual(['one', 'two', '(end)']);
  });

  it('reports nothing more once data asked to stop, whatever the body does after', async () => {
    expect(await read(['data: one\n\ndata: stop\n\ndata: three\n\n'], 'error', 'stop')).toEqual(['one', 'stop']);
  });

  it('reports an error once when the body fails or closes before its end', async () => {
    expect(await read(['data: one\n\n'], 'error')).toEqual(['one', '(error: socket hang up)']);
    expect(await read(['data: one\n\n'], 'close')).toEqual(['one', '(error: Premature close)']);
  });

  it('reports an error for a body that had already closed when it began', async () => {
    const body = new PassThrough().on('error', () => undefined);
    body.destroy(new Error('socket hang up'));
    await new Promise((resolve) => body.once('close', resolve));
    const reported: string[] = [];
    readSse(body, {
      data: () => true,
      end: () => reported.push('(end)'),
      error: (error) => reported.push(`(error: ${(error as Error).message})`),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(reported).toEqual(['(error: socket hang up)']);
  });

  it('reports data that cannot be handled as an error, and nothing after it', async () => {
    const reported: string[] = [];
    const body = new PassThrough();
    await new Promise<void>((resolve) => {
      readSse(body, {
        data: (data) => {
          reported.push(data);
          if (data === 'bad') throw new SyntaxError('Unexpected token');
          return true;
        },
        end: () => reported.push('(end)'),
        error: (error) => {
          reported.push(`(error: ${(error as Error).message})`);
          setImmediate(resolve);
        },
      });
      body.end('data: bad\n\ndata: next\n\n');
    });
    expect(reported).toEqual(['bad', '(error: Unexpected token)']);
  });
});
