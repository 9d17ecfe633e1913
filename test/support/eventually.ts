/** Polls `read` until `accept` holds (then returns the value) or the time is up (then throws). */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean = Boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms (last value: ${String(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
