/**
 * Growth with history: continuations of chains 10, 50 and 200 turns deep with 2 KB turns, from warm Redis and
 * from PostgreSQL only (cold), against direct calls with the same history at the same rate: added latency and
 * the gateway's CPU per request against the history's size, and a linear fit of that CPU.
 */
import { AppConfig } from '@app/config';
import { BENCH_KEY, chatMessagesForChain, continuing, seedChainsFor } from './fixtures';
import { fixedRate, LoadResult, Target } from './load';
import { BenchProcess } from './processes';

export const DEPTHS = [10, 50, 200] as const;
export const TURN_BYTES = 2048;

export interface DepthRun {
  depth: number;
  /** The history the upstream receives (chat messages JSON), in KiB. */
  historyKib: number;
  direct: LoadResult;
  warm: LoadResult;
  cold: LoadResult;
}

export interface DepthPlan {
  config: AppConfig;
  gateway: BenchProcess;
  gatewayOrigin: string;
  mockOrigin: string;
  rate: number;
  segmentMs: number;
  log: (message: string) => void;
}

const auth = { authorization: `Bearer ${BENCH_KEY}` };

/** Continuations of the given chains through the gateway. */
function continuations(origin: string, heads: string[]): Target {
  return { origin, path: '/v1/responses', headers: auth, body: continuing(heads) };
}

export async function historyGrowth(plan: DepthPlan): Promise<DepthRun[]> {
  const requests = Math.ceil((plan.rate * plan.segmentMs) / 1000);
  const runs: DepthRun[] = [];
  // At this low a rate the gateway's own background work (writer ticks, heartbeats, probes) is a large share of
  // its CPU: what it spends idle over a segment is taken off each measured segment.
  await plan.gateway.settle();
  const idleBefore = await plan.gateway.cpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, plan.segmentMs));
  const idleCpuSeconds = (await plan.gateway.cpuSeconds()) - idleBefore;
  for (const depth of DEPTHS) {
    // Warm heads are continued about 5 times each (the session stays under SESSION_MAX_RESPONSES); every cold
    // request gets a chain of its own (once continued, a chain is back-filled: warm).
    const warmHeads = await seedChainsFor(plan.config, Math.ceil(requests / 5) + 1, depth, true, TURN_BYTES);
    const coldHeads = await seedChainsFor(plan.config, requests + 5, depth, false, TURN_BYTES);
    const messages = chatMessagesForChain(depth, TURN_BYTES);
    const direct: Target = {
      origin: plan.mockOrigin,
      path: '/v1/chat/completions',
      headers: auth,
      body: () => JSON.stringify({ model: 'mock-gpt', messages }),
    };
    const measured = async (name: string, target: Target, onGateway: boolean): Promise<LoadResult> => {
      plan.log(`history depth ${depth}: ${name}`);
      await plan.gateway.settle();
      const before = onGateway ? await plan.gateway.cpuSeconds() : 0;
      const result = await fixedRate(target, plan.rate, plan.segmentMs);
      if (onGateway) result.cpuSeconds = Math.max(0, (await plan.gateway.cpuSeconds()) - before - idleCpuSeconds);
      return result;
    };
    runs.push({
      depth,
      historyKib: JSON.stringify(messages).length / 1024,
      direct: await measured('direct', direct, false),
      warm: await measured('warm', continuations(plan.gatewayOrigin, warmHeads), true),
      cold: await measured('cold', continuations(plan.gatewayOrigin, coldHeads), true),
    });
  }
  return runs;
}
