/** What the connection was set up with, for advice that depends on it. */
export interface RedisErrorContext {
  tls: boolean;
  clientCertificate: boolean;
}

/** Certificate checks that fail because the server's chain does not lead to a CA this client trusts. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/**
 * A short, human description of why a Redis call failed, with what to change where the cause is a
 * setting (TLS on one side only, a CA or client certificate missing). Never includes credentials.
 */
export function describeRedisError(error: unknown, context?: RedisErrorContext): string {
  if (!isErrorLike(error)) return String(error);
  // A Cluster that could not learn its slots keeps the node's own error (TLS, auth, refused) aside.
  const nodeError = (error as { lastNodeError?: unknown }).lastNodeError;
  if (nodeError !== undefined && nodeError !== null) return describeRedisError(nodeError, context);
  const tlsProblem = describeTlsError(error, context);
  if (tlsProblem !== undefined) return tlsProblem;
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
    return 'read-only: this Redis is a replica (after a failover?); point REDIS_URL at the primary, or use REDIS_SENTINELS';
  if (/^CLUSTERDOWN/.test(message)) return 'cluster down: the Redis Cluster cannot serve this slot';
  if (/^(MOVED|ASK) /.test(message)) {
    return 'moved: this Redis is a Cluster node and the key lives on another node; set REDIS_CLUSTER_NODES';
  }
  if (/^OOM /.test(message)) return 'out of memory: Redis refuses writes at maxmemory (noeviction)';
  if (/^LOADING/.test(message)) return 'loading: Redis is still loading its data set';
  return message;
}

function describeTlsError(error: ErrorLike, context?: RedisErrorContext): string | undefined {
  const { code = '', message } = error;
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    return `TLS: the server's certificate is not trusted (${message}); set REDIS_TLS_CA_FILE to the CA that signed it`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the server's certificate does not name the host it was reached at (${message}); connect by a name it lists or set REDIS_TLS_SERVERNAME`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `TLS: the server's certificate is not valid now (${message})`;
  }
  if (/certificate required/i.test(message)) {
    return 'TLS: the server requires a client certificate; set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE';
  }
  if (/alert (unknown ca|bad certificate|unsupported certificate|certificate unknown)/i.test(message)) {
    return (
      'TLS: the server refused the client certificate; it must be signed by a CA the server trusts ' +
      '(its tls-ca-cert-file) and be made for client authentication'
    );
  }
  if (/wrong version number|packet length too long|unknown protocol/i.test(message)) {
    return 'TLS: the server does not speak TLS on this port; use redis:// (REDIS_TLS=false) or its TLS port';
  }
  if (code !== 'ECONNRESET' && !/ECONNRESET/.test(message)) return undefined;
  if (context && !context.tls) {
    return 'connection reset by the server: if it expects TLS, use a rediss:// REDIS_URL or REDIS_TLS=true';
  }
  if (context && !context.clientCertificate) {
    return (
      'connection reset by the server during or after the TLS handshake: if it requires client certificates ' +
      '(tls-auth-clients), set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE'
    );
  }
  return 'connection reset by the server';
}

export function isTimeout(error: unknown): boolean {
  return isErrorLike(error) && (error.code === 'ETIMEDOUT' || /ETIMEDOUT|timed out|timeout/i.test(error.message));
}

/** Duck-typed: errors from another realm (Node's net module under Jest's VM) fail `instanceof Error`. */
interface ErrorLike {
  message: string;
  code?: string;
}

function isErrorLike(error: unknown): error is ErrorLike {
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}
