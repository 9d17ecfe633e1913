import { FastifyInstance } from 'fastify';
import { createMockLlm, RecordedRequest } from '../../apps/mock-llm/src/mock-llm.server';
import { MockLlmOptions } from '../../apps/mock-llm/src/mock-llm.options';

export interface RunningMockLlm {
  server: FastifyInstance;
  /** Base URL including /v1, as UPSTREAM_BASE_URL expects. */
  baseUrl: string;
  received(): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startMockLlm(options: Partial<MockLlmOptions> = {}): Promise<RunningMockLlm> {
  const server = createMockLlm(options);
  const address = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    server,
    baseUrl: `${address}/v1`,
    received: async () =>
      ((await (await fetch(`${address}/__mock/requests`)).json()) as { data: RecordedRequest[] }).data,
    close: () => server.close(),
  };
}
