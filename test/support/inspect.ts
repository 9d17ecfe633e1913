import { spawn } from 'node:child_process';

/** `npm run inspect -- <args>` as an operator runs it, with `env` on top of this process's environment. */
export function runInspect(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['tsx', '--tsconfig', 'tsconfig.json', 'scripts/inspect.ts', ...args], {
      cwd: `${__dirname}/../..`,
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}
