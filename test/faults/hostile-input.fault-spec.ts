import { Agent, request } from 'node:http';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { Replica, sharedEnv, startReplica } from './support/replica';
import { sendTurn } from './support/turns';

const REQUESTS = 10_000;
const CONCURRENCY = 16;

interface Hostile {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const WEIRD_STRINGS = [
  '"\\u0000"',
  '"resp_\\u0000"',
  '"\\ud800"',
  '"\\udfff tail"',
  `"${'x'.repeat(5_000)}"`,
  '"resp_0123456789abcdef0123456789abcdef0123456789abcdef"',
  '""',
  '" "',
  '"🎉"',
];
const WEIRD_VALUES = [
  ...WEIRD_STRINGS,
  '1',
  '-1',
  '1e309',
  '0.5',
  'true',
  'null',
  '[]',
  '{}',
  '[1,"a",null]',
  nested(50),
];
const FIELDS = [
  'model',
  'input',
  'instructions',
  'previous_response_id',
  'store',
  'stream',
  'metadata',
  'temperature',
  'top_p',
  'max_output_tokens',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'text',
  'background',
  '__proto__',
  'constructor',
];
const BROKEN_BODIES = [
  '',
  '{',
  '{"model": "mock-gpt", "input": ',
  'null',
  '[]',
  '"just a string"',
  '{"model":"mock-gpt","input":"x"}}',
  '{"model":"mock-gpt","input":"x","model":"dup"}',
  '\u0000',
  '{"model":"mock-gpt","input":"\\ud800"}',
  '{"model":"mock-gpt","input":[{"role":"user","content":"\\u0000\\ud800"}]}',
  `{"model":"mock-gpt","input":"x","tools":[${nested(10_000)}]}`,
  `{"model":"mock-gpt","input":${nested(100_000)}}`,
  '{"model":"mock-gpt","input":"x","__proto__":{"polluted":true}}',
  '{"model":"mock-gpt","input":"x","constructor":{"prototype":{"polluted":true}}}',
];
const PATHS = [
  '/v1/responses/%00',
  '/v1/responses/resp_%00',
  '/v1/responses/%ZZ',
  '/v1/responses/..%2F..%2Fetc%2Fpasswd',
  '/v1/responses/%F0%9F%92%A9',
  '/v1/responses/%ED%A0%80',
  `/v1/responses/${'a'.repeat(2_000)}`,
  '/v1/responses/resp_0123456789abcdef0123456789abcdef0123456789abcdef/input_items?limit=-1',
  '/v1/responses/resp_0123456789abcdef0123456789abcdef0123456789abcdef/input_items?limit=1e9&order=%00',
  '/v1/responses/resp_0123456789abcdef0123456789abcdef0123456789abcdef/input_items?after=%00&after=x',
  '/v1//responses',
  '/v1/responses?x=%00',
  '/%00',
  '/health/ready%00',
  '/cache/sessions/%00',
  '/cache/sessions/resp_%ED%A0%80',
];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data', ''];
const AUTHORIZATIONS = ['Bearer sk-hostile', '', 'Bearer', 'Basic Zm9vOmJhcg==', `Bearer ${'k'.repeat(10_000)}`];

function hostile(next: () => number): Hostile {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const headers: Record<string, string> = {};
  // Mostly well-formed headers, so that most requests reach the body and route checks.
  const contentType = next() < 0.7 ? 'application/json' : pick(CONTENT_TYPES);
  if (contentType) headers['content-type'] = contentType;
  const authorization = next() < 0.7 ? 'Bearer sk-hostile' : pick(AUTHORIZATIONS);
  if (authorization) headers.authorization = authorization;
  if (next() < 0.2) headers['x-session-id'] = pick(['has spaces', 'ü', 'x'.repeat(500), 'ok-session']);
  if (next() < 0.2) headers['x-request-id'] = pick(['../../', 'x'.repeat(500), 'fine-id']);
  const kind = next();
  if (kind < 0.35) {
    const fields = Array.from({ length: 1 + Math.floor(next() * 4) }, () => `"${pick(FIELDS)}":${pick(WEIRD_VALUES)}`);
    const body = `{"model":"mock-gpt","input":"hostile",${fields.join(',')}}`;
    return { method: 'POST', path: '/v1/responses', headers, body };
  }
  if (kind < 0.6) return { method: 'POST', path: '/v1/responses', headers, body: pick(BROKEN_BODIES) };
  if (kind < 0.9) return { method: pick(['GET', 'DELETE', 'POST', 'PUT']), path: pick(PATHS), headers };
  const value = pick(WEIRD_STRINGS);
  return { method: 'POST', path: '/v1/responses', headers, body: `{"model":${value},"input":${value}}` };
}

function send(url: URL, agent: Agent, spec: Hostile): Promise<number> {
  return new Promise((resolve) => {
    try {
      const outgoing = request(
        { host: url.hostname, port: url.port, method: spec.method, path: spec.path, headers: spec.headers, agent },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', () => resolve(-1));
        },
      );
      outgoing.on('error', () => resolve(-1));
      outgoing.end(spec.body);
    } catch {
      resolve(-2); // refused by the client library itself (e.g. a path it will not send)
    }
  });
}

/** 10,000 hostile requests: never a 5xx, never a crash, no stack traces in the log. */
describe('hostile input', () => {
  let mock: RunningMockLlm;
  let replica: Replica | undefined;

  beforeAll(async () => (mock = await startMockLlm()));
  afterAll(async () => {
    await replica?.process.stop('SIGKILL');
    await mock.close();
  });

  it('answers every request with a 2xx or 4xx, stays up and logs no stack traces', async () => {
    replica = await startReplica(
      sharedEnv({
        UPSTREAM_BASE_URL: mock.baseUrl,
        BODY_LIMIT_BYTES: String(4 * 1024 * 1024),
      }),
    );
    const url = new URL(replica.url);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const next = random(20261123);
    const statuses = new Map<number, number>();
    const serverErrors: Hostile[] = [];
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS) {
        sent += 1;
        const spec = hostile(next);
        const status = await send(url, agent, spec);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500) serverErrors.push(spec);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();

    process.stdout.write(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(
      serverErrors.slice(0, 5).map(({ method, path, body }) => ({ method, path, body: body?.slice(0, 200) })),
    ).toEqual([]);
    expect(statuses.get(-1) ?? 0).toBe(0); // no connection the server dropped
    expect(replica.process.child.exitCode).toBeNull();
    expect((await sendTurn(replica.url, { input: 'still fine' })).id).toBeDefined();
    expect(replica.process.output).not.toMatch(/^\s+at /m);
  });
});
