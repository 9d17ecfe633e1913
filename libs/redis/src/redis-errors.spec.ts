import { describeRedisError, isTimeout } from './redis-errors';

function errno(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeRedisError', () => {
  it.each([
    [errno('connect ECONNREFUSED 127.0.0.1:6390', 'ECONNREFUSED'), 'connection refused'],
    [new Error('Error: connect ECONNREFUSED 127.0.0.1:6390'), 'connection refused'],
    [errno('getaddrinfo ENOTFOUND cache', 'ENOTFOUND'), 'host not found'],
    [new Error('Command timed out'), 'timeout'],
    [
      new Error('WRONGPASS invalid username-password pair or user is disabled.'),
      'authentication failed: wrong username or password',
    ],
    [new Error('NOAUTH Authentication required.'), 'authentication required: no password was sent'],
    [
      new Error("NOPERM this user has no permissions to run the 'set' command"),
      "no permission: this user has no permissions to run the 'set' command",
    ],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'not connected'],
    [
      new Error("READONLY You can't write against a read only replica."),
      'read-only: this Redis is a replica (after a failover?); point REDIS_URL at the primary, or use REDIS_SENTINELS',
    ],
    [new Error('CLUSTERDOWN The cluster is down'), 'cluster down: the Redis Cluster cannot serve this slot'],
    [
      new Error('MOVED 3999 127.0.0.1:6381'),
      'moved: this Redis is a Cluster node and the key lives on another node; set REDIS_CLUSTER_NODES',
    ],
  ])('describes %s as "%s"', (error, description) => {
    expect(describeRedisError(error)).toBe(description);
  });

  const plain = { tls: false, clientCertificate: false };
  const tlsOnly = { tls: true, clientCertificate: false };
  it.each([
    [errno('read ECONNRESET', 'ECONNRESET'), plain, 'if it expects TLS, use a rediss:// REDIS_URL or REDIS_TLS=true'],
    [errno('write ECONNRESET', 'ECONNRESET'), tlsOnly, 'set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE'],
    [
      errno('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
      tlsOnly,
      'not trusted (self-signed certificate in certificate chain); set REDIS_TLS_CA_FILE to the CA that signed it',
    ],
    [
      errno("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      tlsOnly,
      'connect by a name it lists or set REDIS_TLS_SERVERNAME',
    ],
    [
      errno('error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required', 'ERR_SSL_TLSV13'),
      tlsOnly,
      'the server requires a client certificate; set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE',
    ],
  ])('gives TLS advice in words: %s', (error, context, advice) => {
    expect(describeRedisError(error, context)).toContain(advice);
  });

  it('tells timeouts apart from other failures', () => {
    expect(isTimeout(new Error('Command timed out'))).toBe(true);
    expect(isTimeout(errno('connect ECONNREFUSED', 'ECONNREFUSED'))).toBe(false);
  });
});
