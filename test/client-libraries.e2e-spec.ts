import { createOpenAI } from '@ai-sdk/openai';
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import { generateText, stepCountIs, tool as aiTool } from 'ai';
import OpenAI from 'openai';
import { z } from 'zod';
import { ResponsesBed } from './support/responses-bed';

/** Client libraries as their users drive them, against the running service and the mock upstream. */
describe('client libraries', () => {
  let bed: ResponsesBed;
  beforeAll(async () => (bed = await ResponsesBed.start()));
  afterAll(() => bed.close());

  it('Vercel AI SDK: resending result.response.messages with store on (its item_reference path) continues the conversation', async () => {
    const openai = createOpenAI({ baseURL: `${bed.gateway.url}/v1`, apiKey: 'sk-vercel' });
    const model = openai.responses('mock-gpt');
    const first = await generateText({
      model,
      prompt: 'hello from vercel',
      providerOptions: { openai: { store: true } },
    });
    expect(first.text).toMatch(/^Turn 1:/);

    const second = await generateText({
      model,
      messages: [
        { role: 'user', content: 'hello from vercel' },
        ...first.response.messages,
        { role: 'user', content: 'and again' },
      ],
      providerOptions: { openai: { store: true } },
    });
    expect(second.text).toMatch(/^Turn 2: you said "and again"/);
    const upstream = await bed.lastUpstreamMessages();
    expect(upstream.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(upstream[1]?.content).toBe(first.text);
  });

  it('Vercel AI SDK: a tool step refers to its own tool call by id and sends the result', async () => {
    const openai = createOpenAI({ baseURL: `${bed.gateway.url}/v1`, apiKey: 'sk-vercel' });
    const result = await generateText({
      model: openai.responses('mock-gpt'),
      prompt: 'please lookup_weather for Oslo',
      tools: {
        lookup_weather: aiTool({
          description: 'Weather for a place',
          inputSchema: z.object({ input: z.string() }),
          execute: () => Promise.resolve('snowing'),
        }),
      },
      stopWhen: stepCountIs(2),
      providerOptions: { openai: { store: true } },
    });
    expect(result.steps).toHaveLength(2);
    expect(result.text).toMatch(/returned: "?snowing/);
    const roles = (await bed.lastUpstreamMessages()).map((message) => message.role);
    expect(roles).toEqual(['user', 'assistant', 'tool']);
  });

  describe('OpenAI Agents SDK', () => {
    beforeAll(() => {
      setTracingDisabled(true); // no network to OpenAI's trace exporter here
      setOpenAIAPI('responses');
      setDefaultOpenAIClient(new OpenAI({ baseURL: `${bed.gateway.url}/v1`, apiKey: 'sk-agents', maxRetries: 0 }));
    });

    it('runs a tool and continues with previousResponseId, the service keeping the history', async () => {
      const calls: string[] = [];
      const lookup = tool({
        name: 'lookup_weather',
        description: 'Weather for a place',
        parameters: z.object({ input: z.string() }),
        execute: ({ input }) => {
          calls.push(input);
          return 'sunny';
        },
      });
      const agent = new Agent({ name: 'helper', model: 'mock-gpt', instructions: 'Be brief.', tools: [lookup] });

      const first = await run(agent, 'please lookup_weather for Paris');
      expect(calls).toEqual(['please lookup_weather for Paris']);
      expect(first.finalOutput).toMatch(/returned: sunny/);

      const second = await run(agent, 'thanks', { previousResponseId: first.lastResponseId });
      expect(second.finalOutput).toMatch(/^Turn 2: you said "thanks"/);
      // The upstream saw the whole chain, tool call and result included, rebuilt by the service.
      const roles = (await bed.lastUpstreamMessages()).map((message) => message.role);
      expect(roles).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    });
  });
});
