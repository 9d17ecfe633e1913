/** A short, human description of why a Redis call failed. Never includes credentials. */
export function describeRedisError(error: unknown): string {
  if (!isErrorLike(error)) return String(error);
  const { code, message } = error;
  // ioredis sometimes wraps the socket error, so the code may only survive in the message.
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(message)) return 'host not found';
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|timed out|timeout/i.test(message)) return 'timeout';
  if (/WRONGPASS/.test(message)) return 'authentication failed: wrong username or password';
  if (/NOAUTH/.test(message)) return 'authentication required: no password was sent';
  if (/NOPERM/.test(message)) return `no permission: ${message.replace(/^NOPERM\s*/, '')}`;
  if (/enableOfflineQueue|Stream isn't writeable|Connection is closed/i.test(message)) return 'not connected';
  if (/^READONLY/.test(message))
    return 'read-only: this Redis is a replica (after a failover?); point REDIS_URL at the primary';
  if (/^CLUSTERDOWN/.test(message)) return 'cluster down: the Redis Cluster cannot serve this slot';
  if (/^(MOVED|ASK) /.test(message)) return 'moved: this Redis is a Cluster node and the key lives on another node';
  if (/^OOM /.test(message)) return 'out of memory: Redis refuses writes at maxmemory (noeviction)';
  if (/^LOADING/.test(message)) return 'loading: Redis is still loading its data set';
  return message;
}

export function isTimeout(error: unknown): boolean {
  return isErrorLike(error) && (error.code === 'ETIMEDOUT' || /ETIMEDOUT|timed out|timeout/i.test(error.message));
}

/** Duck-typed: errors from another realm (Node's net module under Jest's VM) fail `instanceof Error`. */
function isErrorLike(error: unknown): error is { message: string; code?: string } {
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}
