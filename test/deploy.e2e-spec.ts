import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '@app/config';
import { RunningGateway, startGateway } from './support/gateway';

const DEPLOY = join(__dirname, '..', 'deploy');
const read = (path: string) => readFileSync(join(DEPLOY, path), 'utf8');

/** The metric names a query text uses (histogram series named by their family). */
function metricsQueried(text: string): string[] {
  const names = text.match(/\brsc_[a-z_]+/g) ?? [];
  return [...new Set(names.map((name) => name.replace(/_(bucket|sum|count)$/, '')))].sort();
}

describe('deploy/: the dashboard, the alerts and the Kubernetes example', () => {
  let gateway: RunningGateway;
  // Admission control on, as deployed (the test helper turns it off by default).
  beforeAll(async () => (gateway = await startGateway({ OVERLOAD_QUEUE_TARGET_MS: '50' })));
  afterAll(() => gateway.close());

  it('query only metrics the service exposes on /metrics', async () => {
    const exposition = await (await fetch(`${gateway.url}/metrics`)).text();
    const families = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    const dashboard = JSON.parse(read('grafana/responses-session-cache.json')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const queried = [
      ...metricsQueried(dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n')),
      ...metricsQueried(read('prometheus/alerts.yml')),
    ];
    expect(queried.length).toBeGreaterThan(10);
    expect(queried.filter((name) => !families.has(name))).toEqual([]);
  });

  it('give the Kubernetes example the README’s probes, port and a grace period longer than the service’s own', () => {
    const manifest = read('kubernetes/sidecar.yaml');
    expect(manifest).toMatch(/readinessProbe:\s+httpGet: \{ path: \/health\/ready, port: 8080 \}/);
    expect(manifest).toMatch(/livenessProbe:\s+httpGet: \{ path: \/health\/live, port: 8080 \}/);
    const env = (name: string) => new RegExp(`name: ${name}, value: '(\\d+)'`).exec(manifest)?.[1];
    const config = new AppConfig({
      SHUTDOWN_DELAY_MS: env('SHUTDOWN_DELAY_MS'),
      SHUTDOWN_GRACE_MS: env('SHUTDOWN_GRACE_MS'),
    });
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(manifest)?.[1]);
    // Delay, grace, then the last flush and hooks (bounded at 25 s by the service): all inside the pod's grace.
    expect(grace * 1000).toBeGreaterThanOrEqual(config.shutdownDelayMs + config.shutdownGraceMs + 25_000);
    // The gateway outlives the drain, so streams in flight keep their upstream.
    const preStop = Number(/preStop: \{ sleep: \{ seconds: (\d+) \} \}/.exec(manifest)?.[1]);
    expect(preStop * 1000).toBeGreaterThan(config.shutdownDelayMs + config.shutdownGraceMs);
  });
});
