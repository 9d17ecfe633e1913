import { Client } from 'pg';
import { eventually } from '../support/eventually';
import { RunningMockLlm, startMockLlm } from '../support/mock-llm';
import { Replica, sharedEnv, startReplica, storedInPostgres } from './support/replica';
import { sendTurn, TurnOutcome } from './support/turns';

async function readiness(url: string): Promise<{ status: number; body: { status?: string } }> {
  try {
    const response = await fetch(`${url}/health/ready`);
    return { status: response.status, body: (await response.json()) as { status?: string } };
  } catch {
    return { status: 0, body: {} };
  }
}

async function rowsWithInput(marker: string): Promise<Array<{ status: string; error: { code: string } | null }>> {
  const pg = new Client({ connectionString: process.env.DATABASE_URL });
  await pg.connect();
  try {
    const result = await pg.query<{ status: string; error: { code: string } | null }>(
      'SELECT status, error FROM responses WHERE input::text LIKE $1',
      [`%${marker}%`],
    );
    return result.rows;
  } finally {
    await pg.end();
  }
}

/** A rolling deploy's SIGTERM: the replica drains instead of cutting what is in flight. */
describe('SIGTERM (a rolling deploy)', () => {
  let mock: RunningMockLlm;
  let replica: Replica | undefined;

  afterEach(async () => {
    await replica?.process.stop('SIGKILL');
    await mock.close();
  });

  /** A replica in front of a mock that streams one chunk every `chunkDelayMs`, with the given drain settings. */
  async function startBehindSlowUpstream(options: { chunkDelayMs: number; delayMs: number; graceMs: number }) {
    mock = await startMockLlm({ chunkDelayMs: options.chunkDelayMs });
    return startReplica(
      sharedEnv({
        UPSTREAM_BASE_URL: mock.baseUrl,
        SHUTDOWN_DELAY_MS: String(options.delayMs),
        SHUTDOWN_GRACE_MS: String(options.graceMs),
      }),
    );
  }

  it('lets 50 streams in flight finish with their terminal event, says draining, then exits 0', async () => {
    replica = await startBehindSlowUpstream({ chunkDelayMs: 150, delayMs: 1_500, graceMs: 60_000 });
    const { url } = replica;
    const streams = Array.from({ length: 50 }, (_, index) => sendTurn(url, { input: `stream ${index}`, stream: true }));
    await eventually(
      async () => (await mock.received()).length,
      (count) => count >= 50,
      30_000,
    );

    replica.process.child.kill('SIGTERM');
    const draining = await eventually(
      () => readiness(url),
      (ready) => ready.body.status === 'draining',
      5_000,
    );
    expect(draining.status).toBe(503);
    // Within SHUTDOWN_DELAY_MS a new request is still served in full.
    const late = await sendTurn(url, { input: 'arrived during the delay' });
    expect(late.id).toBeDefined();

    const outcomes: TurnOutcome[] = await Promise.all(streams);
    expect(outcomes.filter((outcome) => !outcome.id)).toEqual([]);
    expect(await replica.process.exited()).toEqual({ code: 0, signal: null });
    const ids = [...outcomes.map((outcome) => outcome.id as string), late.id as string];
    expect(await storedInPostgres(ids)).toBe(51);
  });

  it('cuts a stream still running when the grace is over, and records it as cancelled', async () => {
    replica = await startBehindSlowUpstream({ chunkDelayMs: 1_000, delayMs: 0, graceMs: 1_000 });
    const marker = `too-long-${Date.now()}`;
    const stream = sendTurn(replica.url, { input: marker, stream: true });
    await eventually(
      async () => (await mock.received()).length,
      (count) => count >= 1,
      30_000,
    );
    replica.process.child.kill('SIGTERM');

    const outcome = await stream;
    expect(outcome.id).toBeUndefined();
    expect(await replica.process.exited()).toEqual({ code: 0, signal: null });
    expect(await rowsWithInput(marker)).toEqual([
      { status: 'cancelled', error: expect.objectContaining({ code: 'server_shutdown' }) },
    ]);
  });
});
