/** Reads a sampling heap profile (see allocation-sampling.js): KB allocated per request, by package and function. */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: ProfileNode[];
}

const TOP = 15;

export async function allocationLines(file: string, requests: number): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) return [`(no allocation profile at ${file})`];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // written in one call, but let it finish
  const root = (JSON.parse(await readFile(file, 'utf8')) as { head: ProfileNode }).head;
  await rm(file);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const visit = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize > 0) {
      total += node.selfSize;
      add(byPackage, packageOf(url), node.selfSize);
      add(byFunction, `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`, node.selfSize);
    }
    node.children?.forEach(visit);
  };
  visit(root);
  const kb = (bytes: number) => (bytes / 1024 / Math.max(1, requests)).toFixed(1);
  const top = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([name, bytes]) => `  ${kb(bytes).padStart(6)} ${name}`);
  return [
    `${kb(total)} KB allocated per request (${requests} requests)`,
    'by package:',
    ...top(byPackage),
    'by function (self):',
    ...top(byFunction),
  ];
}

function add(map: Map<string, number>, key: string, bytes: number): void {
  map.set(key, (map.get(key) ?? 0) + bytes);
}

function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match?.[1]) return match[1];
  if (/\/(apps|libs)\//.test(url)) return '(service)';
  if (url.startsWith('node:')) return url.split('/')[0] ?? url;
  return url || '(V8 builtins)';
}

function shortUrl(url: string): string {
  return url.replace(/.*node_modules\//, '').replace(/.*\/((apps|libs)\/)/, '$1');
}
