/** A short, human description of why a Redis call failed. Never includes credentials. */
export function describeRedisError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const message = error.message;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ETIMEDOUT' || /timed out|timeout/i.test(message)) return 'timeout';
  if (/WRONGPASS/.test(message)) return 'authentication failed: wrong username or password';
  if (/NOAUTH/.test(message)) return 'authentication required: no password was sent';
  if (/NOPERM/.test(message)) return `no permission: ${message.replace(/^NOPERM\s*/, '')}`;
  if (/enableOfflineQueue|Stream isn't writeable|Connection is closed/i.test(message)) return 'not connected';
  return message;
}

export function isTimeout(error: unknown): boolean {
  return error instanceof Error && /timed out|timeout/i.test(error.message);
}
