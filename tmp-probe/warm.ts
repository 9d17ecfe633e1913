import { AppConfig } from '@app/config';
import { BenchProcess, ENTRY } from '../test/bench/processes';
import { freePort } from '../test/support/redis-server';
import { createDatabase, dropDatabase, migrate, withDatabase } from '../test/setup/test-services';
import { BENCH_KEY, seedChainsFor } from '../test/bench/fixtures';
import { fixedRate, percentiles, closePools } from '../test/bench/load';

async function main() {
  const admin = 'postgresql://postgres@127.0.0.1:5432/postgres';
  const db = `rsc_probe_${Date.now()}`;
  await createDatabase(admin, db);
  const url = withDatabase(admin, db);
  await migrate(url);
  const [m, g] = [await freePort(), await freePort()];
  const mock = BenchProcess.start('mock', ENTRY.mock, { MOCK_LLM_PORT: String(m), MOCK_LLM_LATENCY_MS: '20' }, '/tmp');
  const env = { PORT: String(g), HOST: '127.0.0.1', UPSTREAM_BASE_URL: `http://127.0.0.1:${m}/v1`, DATABASE_URL: url, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: 'probe' + db, SESSION_TTL_SECONDS: '3600', ADMIN_API_KEY: 'a' };
  const gw = BenchProcess.start('gw', [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), ...ENTRY.gateway], env, '/tmp');
  try {
    await mock.waitForHttp(`http://127.0.0.1:${m}/health`);
    await gw.waitForHttp(`http://127.0.0.1:${g}/health/ready`);
    const heads = await seedChainsFor(new AppConfig({ ...process.env, ...env }), 400, 10, true);
    let next = 0;
    const origin = `http://127.0.0.1:${g}`;
    const kind = process.env.KIND ?? 'warm';
    const target = { origin, path: '/v1/responses', headers: { authorization: `Bearer ${BENCH_KEY}` }, body: () => kind === 'warm' ? JSON.stringify({ model: 'mock-gpt', input: 'And?', previous_response_id: heads[next++ % heads.length] }) : JSON.stringify({ model: 'mock-gpt', input: 'Hello' }) };
    await fixedRate(target, Number(process.env.WARM_RATE ?? 200), Number(process.env.WARM_MS ?? 1000));
    const rate = Number(process.env.RATE ?? 500);
    const cpu0 = await gw.cpuSeconds();
    const r = await fixedRate(target, rate, 4000);
    const cpu = (await gw.cpuSeconds()) - cpu0;
    console.log(kind, rate, percentiles(r.latency), 'errors', r.errors, 'cpu/req µs', Math.round(cpu * 1e6 / r.sent));
    const stats = await (await fetch(`${origin}/cache/stats`, { headers: { authorization: 'Bearer a' } })).json();
    console.log(JSON.stringify(stats.redis ?? stats, null, 0).slice(0, 1500));
  } finally {
    await closePools();
    await gw.stop(); await mock.stop();
    await dropDatabase(admin, db);
  }
}
void main();
