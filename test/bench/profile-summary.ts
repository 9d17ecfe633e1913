/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package.
 * `tsx test/bench/profile-summary.ts bench-results/profiles/<file>.cpuprofile [top]`
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
profile.samples.forEach((id, index) =>
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
);
const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';
// Shares are of busy time: idle samples (the event loop waiting) are left out.
for (const id of [...selfMicros.keys()]) if (isIdle(id)) selfMicros.delete(id);
const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);

function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match?.[1]) return match[1];
  if (url.includes('/dist/')) return '(service)';
  if (url.startsWith('node:') || url === '') return '(node/native)';
  return url;
}

const nameOf = (frame: ProfileNode['callFrame']) =>
  `${frame.functionName || '(anonymous)'} ${frame.url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, 'dist/')}:${frame.lineNumber + 1}`;
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
/** Time with the function anywhere on the stack (counted once per sample however deep it recurses). */
const inclusive = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const frame = byId.get(id)?.callFrame;
  if (!frame) continue;
  byFunction.set(nameOf(frame), (byFunction.get(nameOf(frame)) ?? 0) + micros);
  byPackage.set(packageOf(frame.url), (byPackage.get(packageOf(frame.url)) ?? 0) + micros);
  const onStack = new Set<string>();
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const ancestor = byId.get(current)?.callFrame;
    if (ancestor) onStack.add(nameOf(ancestor));
  }
  for (const name of onStack) inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
}
const print = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
};
console.log(`busy time sampled: ${(total / 1e6).toFixed(1)} s (shares below are of busy time)`);
print('self time by package', byPackage);
print('self time by function', byFunction);
print('inclusive time by function', inclusive);

/** Inclusive time of the frames whose name matches FOCUS (env), with their callers: where the cost comes from. */
const focus = process.env.FOCUS;
if (focus) {
  const callers = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    let current: number | undefined = id;
    const path: string[] = [];
    while (current !== undefined) {
      const frame = byId.get(current)?.callFrame;
      if (frame)
        path.push(
          `${frame.functionName || '(anonymous)'}@${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`,
        );
      current = parent.get(current);
    }
    const at = path.findIndex((entry) => entry.includes(focus));
    if (at === -1) continue;
    const key = path.slice(at, at + 6).join(' < ');
    callers.set(key, (callers.get(key) ?? 0) + micros);
  }
  print(`stacks through "${focus}" (self time below them)`, callers);
}
