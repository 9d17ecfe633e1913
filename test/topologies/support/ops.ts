import type Redis from 'ioredis';

type Body = Record<string, any>;

export async function getJson(url: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Body };
}

export async function postJson(url: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

/** Every key on one node matching `pattern` (SCAN); disconnects the client. */
export async function keysOn(node: Redis, pattern: string): Promise<string[]> {
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    node.disconnect();
  }
}
