import { Pool } from 'undici';
import { BenchProcess, ENTRY } from '../test/bench/processes';
import { freePort } from '../test/support/redis-server';

async function ttfb(origin: string, path: string, body: string, n: number): Promise<number[]> {
  const pool = new Pool(origin, { connections: 4 });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-x' }, body });
    let first = true;
    for await (const chunk of res.body) {
      if (first && (chunk as Buffer).length > 0) { out.push((performance.now() - t0) * 1000); first = false; }
    }
  }
  await pool.close();
  return out.sort((a, b) => a - b);
}
const med = (xs: number[]) => Math.round(xs[Math.floor(xs.length / 2)] ?? 0);

async function main() {
  const [m, f, g] = [await freePort(), await freePort(), await freePort()];
  const logDir = '/tmp';
  const mock = BenchProcess.start('mock', ENTRY.mock, { MOCK_LLM_PORT: String(m), MOCK_LLM_LATENCY_MS: '20' }, logDir);
  const floor = BenchProcess.start('floor', ENTRY.floor, { FLOOR_PORT: String(f), FLOOR_UPSTREAM: `http://127.0.0.1:${m}` }, logDir);
  const gw = BenchProcess.start('gw', ENTRY.gateway, { PORT: String(g), HOST: '127.0.0.1', UPSTREAM_BASE_URL: `http://127.0.0.1:${m}/v1`, DATABASE_URL: process.env.DATABASE_URL ?? '', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: 'probe', LOG_LEVEL: process.env.GW_LOG ?? 'info' }, logDir);
  try {
    await mock.waitForHttp(`http://127.0.0.1:${m}/health`);
    await floor.waitForHttp(`http://127.0.0.1:${f}/health`);
    await gw.waitForHttp(`http://127.0.0.1:${g}/health/ready`);
    const chat = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello! What can you do?' }], stream: true, stream_options: { include_usage: true } });
    const resp = JSON.stringify({ model: 'mock-gpt', input: 'Hello! What can you do?', stream: true });
    const N = Number(process.env.N ?? 300);
    for (let round = 0; round < 2; round++) {
      const d = await ttfb(`http://127.0.0.1:${m}`, '/v1/chat/completions', chat, N);
      const fl = await ttfb(`http://127.0.0.1:${f}`, '/v1/chat/completions', chat, N);
      const s = await ttfb(`http://127.0.0.1:${g}`, '/v1/responses', resp, N);
      console.log(`round ${round}: direct ${med(d)} floor +${med(fl) - med(d)} service +${med(s) - med(d)} µs`);
    }
  } finally {
    for (const p of [gw, floor, mock]) await p.stop();
  }
}
void main();
