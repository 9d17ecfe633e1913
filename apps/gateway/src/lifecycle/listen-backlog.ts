import { readFileSync } from 'node:fs';

const SOMAXCONN = '/proc/sys/net/core/somaxconn';

/**
 * Why the backlog the kernel grants is smaller than LISTEN_BACKLOG (Linux caps it at
 * net.core.somaxconn without a word), or null when it is not, or cannot be told (another OS).
 */
export function backlogCapWarning(requested: number, somaxconnFile = SOMAXCONN): string | null {
  let cap: number;
  try {
    cap = Number.parseInt(readFileSync(somaxconnFile, 'utf8'), 10);
  } catch {
    return null;
  }
  if (!Number.isFinite(cap) || cap >= requested) return null;
  return (
    `LISTEN_BACKLOG is ${requested} but net.core.somaxconn caps it at ${cap}: a burst of new connections ` +
    'beyond that while the service is busy has its SYNs dropped (clients retry after 1 s, then 3 s); raise the sysctl'
  );
}
