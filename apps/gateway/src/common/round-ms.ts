/** Milliseconds to 3 decimals (microsecond resolution), as health, ping, stats and request logs show them. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
