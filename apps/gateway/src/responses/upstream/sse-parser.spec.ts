import { sseData } from './sse-parser';

async function all(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const data of sseData(
    (async function* () {
      for (const chunk of chunks) yield Buffer.from(chunk);
    })(),
  ))
    out.push(data);
  return out;
}

describe('sseData', () => {
  it('yields each event data, across chunk boundaries and CRLF framing, skipping comments and other fields', async () => {
    expect(
      await all(['data: {"a":', '1}\n\n: keep-alive\n\nevent: x\r\nda', 'ta: two\r\n\r\ndata: [DONE]\n\n']),
    ).toEqual(['{"a":1}', 'two', '[DONE]']);
  });

  it('joins multi-line data and keeps a last event without a blank line', async () => {
    expect(await all(['data: line1\ndata: line2\n\ndata:tail'])).toEqual(['line1\nline2', 'tail']);
  });
});
