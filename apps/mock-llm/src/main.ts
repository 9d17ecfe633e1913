import { createMockLlm } from './mock-llm.server';
import { mockLlmOptionsFromEnv } from './mock-llm.options';

async function main(): Promise<void> {
  const options = mockLlmOptionsFromEnv(process.env);
  const app = createMockLlm(options);
  const port = Number(process.env.MOCK_LLM_PORT ?? process.env.PORT ?? 4000);
  const host = process.env.MOCK_LLM_HOST ?? process.env.HOST ?? '127.0.0.1';
  const address = await app.listen({ port, host });
  console.log(`mock-llm listening on ${address}/v1 (latency ${options.latencyMs} ms)`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error('mock-llm failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
