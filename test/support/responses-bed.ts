import OpenAI from 'openai';
import { Client } from 'pg';
import Redis from 'ioredis';
import { SpendLogWriter } from '@app/session-store';
import { RecordedRequest } from '../../apps/mock-llm/src/mock-llm.server';
import { MockLlmOptions } from '../../apps/mock-llm/src/mock-llm.options';
import { RunningGateway, startGateway } from './gateway';
import { RunningMockLlm, startMockLlm } from './mock-llm';

export interface SpendLogRow {
  id: string;
  session_id: string;
  parent_response_id: string | null;
  status: string;
  store: boolean;
  input: unknown;
  output: unknown;
  instructions: string | null;
  total_tokens: number;
  input_tokens: number;
  output_tokens: number;
  error: { code: string; message: string } | null;
  history_source: string | null;
  deleted_at: Date | null;
}

/** The gateway in front of mock-llm, with SDK clients for two tenants and views into Redis and PostgreSQL. */
export class ResponsesBed {
  private constructor(
    readonly gateway: RunningGateway,
    readonly mock: RunningMockLlm,
    readonly pg: Client,
    readonly redis: Redis,
  ) {}

  static async start(
    env: Record<string, string> = {},
    mockOptions: Partial<MockLlmOptions> = {},
  ): Promise<ResponsesBed> {
    const mock = await startMockLlm(mockOptions);
    const gateway = await startGateway({ UPSTREAM_BASE_URL: mock.baseUrl, ...env });
    const pg = new Client({ connectionString: process.env.DATABASE_URL });
    await pg.connect();
    const redis = new Redis(process.env.REDIS_URL as string);
    return new ResponsesBed(gateway, mock, pg, redis);
  }

  async close(): Promise<void> {
    await this.gateway.close();
    await this.mock.close();
    await this.pg.end();
    this.redis.disconnect();
  }

  client(apiKey = 'sk-tenant-a'): OpenAI {
    return new OpenAI({ baseURL: `${this.gateway.url}/v1`, apiKey, maxRetries: 0 });
  }

  get writer(): SpendLogWriter {
    return this.gateway.app.get(SpendLogWriter);
  }

  get prefix(): string {
    return this.gateway.config.redisKeyPrefix;
  }

  /** Chat requests the upstream received, oldest first. */
  async upstreamRequests(): Promise<RecordedRequest[]> {
    return this.mock.received();
  }

  async lastUpstreamMessages(): Promise<Array<{ role: string; content?: unknown; tool_calls?: unknown }>> {
    const requests = await this.mock.received();
    return requests[requests.length - 1]?.body.messages ?? [];
  }

  async spendLog(id: string): Promise<SpendLogRow | undefined> {
    const result = await this.pg.query<SpendLogRow>('SELECT * FROM responses WHERE id = $1', [id]);
    return result.rows[0];
  }

  /** Every key of this gateway's namespace. */
  async redisKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }

  /** Evicts the namespace from Redis (as an expiry or an operator would). */
  async forgetRedis(): Promise<void> {
    const keys = await this.redisKeys();
    if (keys.length > 0) await this.redis.unlink(...keys);
  }

  async hasCached(responseId: string): Promise<boolean> {
    return (await this.redisKeys()).some((key) => key.endsWith(`:r:${responseId}`));
  }
}

/** A raw POST, for what the SDK would refuse to send. */
export async function postRaw(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { error?: { message: string; type: string; param: string | null; code: string | null } };
}> {
  const response = await fetch(`${url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tenant-a', ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as never };
}
