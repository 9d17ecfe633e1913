import OpenAI from 'openai';
import { historyDigest } from '../apps/mock-llm/src/mock-answer';
import { RunningMockLlm, startMockLlm } from './support/mock-llm';

describe('mock-llm through the official openai SDK', () => {
  let mock: RunningMockLlm;
  let client: OpenAI;
  beforeAll(async () => {
    mock = await startMockLlm({ failEvery: 0 });
    client = new OpenAI({ baseURL: mock.baseUrl, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterAll(() => mock.close());

  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hello' },
  ];

  it('answers a chat completion from the messages it received, with usage', async () => {
    const completion = await client.chat.completions.create({ model: 'mock-gpt', messages });
    expect(completion.choices[0]?.message.content).toBe(
      `Turn 1: you said "hello" (2 messages, history ${historyDigest(messages as never)})`,
    );
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );

    const received = await mock.received();
    expect(received.at(-1)).toMatchObject({ authorization: 'Bearer sk-test', body: { messages } });
  });

  it('streams the same answer as SSE chunks, then usage when asked, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock-gpt',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toBe(`Turn 1: you said "hello" (2 messages, history ${historyDigest(messages as never)})`);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('injects a failure status asked for in the last user message', async () => {
    await expect(
      client.chat.completions.create({
        model: 'mock-gpt',
        messages: [{ role: 'user', content: 'hi [[mock:status=429]]' }],
      }),
    ).rejects.toMatchObject({ status: 429 });
  });

  it('fails every Nth request when configured to', async () => {
    const flaky = await startMockLlm({ failEvery: 2, failStatus: 503 });
    const flakyClient = new OpenAI({ baseURL: flaky.baseUrl, apiKey: 'sk-test', maxRetries: 0 });
    try {
      await expect(flakyClient.chat.completions.create({ model: 'm', messages })).resolves.toBeDefined();
      await expect(flakyClient.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({
        status: 503,
      });
      await expect(flakyClient.chat.completions.create({ model: 'm', messages })).resolves.toBeDefined();
    } finally {
      await flaky.close();
    }
  });

  it('drops a stream mid-way when asked to, so clients see an interrupted stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock-gpt',
      messages: [{ role: 'user', content: 'cut me [[mock:abort-after=2]]' }],
      stream: true,
    });
    const consume = async () => {
      for await (const chunk of stream) void chunk;
    };
    await expect(consume()).rejects.toThrow();
  });

  it('rejects a request without messages with 400 in the OpenAI envelope', async () => {
    await expect(client.chat.completions.create({ model: 'mock-gpt', messages: [] })).rejects.toMatchObject({
      status: 400,
      error: { param: 'messages', type: 'invalid_request_error' },
    });
  });
});
