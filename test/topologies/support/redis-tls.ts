import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Redis, { RedisOptions } from 'ioredis';
import { freePort } from '../../support/redis-server';

/** Slow shared machines: key generation and start-up can take seconds there. */
const TIMEOUT_MS = 60_000;

export interface TestCertificates {
  dir: string;
  /** The CA that signs the server and client certificates. */
  caFile: string;
  /** SAN: DNS:localhost, IP:127.0.0.1. */
  serverCertFile: string;
  serverKeyFile: string;
  /** Signed by caFile, for clientAuth. */
  clientCertFile: string;
  clientKeyFile: string;
  /** An unrelated CA (for "untrusted certificate" tests). */
  otherCaFile: string;
  remove(): Promise<void>;
}

/**
 * Our own config, so the certificates do not depend on the system's openssl.cnf (whose defaults
 * for `req -x509` extensions differ between distributions).
 */
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** A CA, a server and a client certificate it signs, and an unrelated CA: RSA 2048, valid 1 day. */
export async function generateCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-certs-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const file = (name: string) => join(dir, name);
  const config = file('openssl.cnf');
  const openssl = async (...args: string[]): Promise<void> => {
    try {
      await promisify(execFile)('openssl', args, { timeout: TIMEOUT_MS });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`openssl ${args.join(' ')} failed: ${String(error)}\n${stderr ?? ''}`);
    }
  };
  const selfSigned = (name: string, subject: string) =>
    openssl(
      ...['req', '-config', config, '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', subject],
      ...['-extensions', 'ca', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`)],
    );
  const signed = async (name: string, subject: string, extensions: string) => {
    await openssl(
      ...['req', '-config', config, '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', subject],
      ...['-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)],
    );
    await openssl(
      ...['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key')],
      ...['-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1'],
      ...['-extfile', config, '-extensions', extensions, '-out', file(`${name}.crt`)],
    );
  };
  try {
    await writeFile(config, OPENSSL_CONFIG);
    await selfSigned('ca', '/CN=redis-test-ca');
    await selfSigned('other-ca', '/CN=redis-test-other-ca');
    await signed('server', '/CN=localhost', 'server');
    await signed('client', '/CN=redis-test-client', 'client');
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    dir,
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    otherCaFile: file('other-ca.crt'),
    remove,
  };
}

export interface TlsRedisOptions {
  certificates: TestCertificates;
  /** tls-auth-clients yes: the server refuses clients without a certificate signed by caFile. */
  requireClientCerts: boolean;
}

/** A redis-server that speaks only TLS (plain port disabled), on a free port. */
export class TlsRedisUnderTest {
  private stopped = false;
  private spawnError?: Error;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly options: TlsRedisOptions,
  ) {
    child.on('error', (error) => (this.spawnError = error));
  }

  static async start(options: TlsRedisOptions): Promise<TlsRedisUnderTest> {
    const { certificates, requireClientCerts } = options;
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'redis-tls-'));
    const dataDir = join(dir, 'data');
    await mkdir(dataDir);
    const logFile = join(dir, 'redis.log');
    const log = openSync(logFile, 'a');
    const args = ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn(
      'redis-server',
      [
        ...args,
        ...['--dir', dataDir],
        ...['--tls-cert-file', certificates.serverCertFile, '--tls-key-file', certificates.serverKeyFile],
        ...['--tls-ca-cert-file', certificates.caFile, '--tls-auth-clients', requireClientCerts ? 'yes' : 'no'],
      ],
      // Output to a file, not --logfile: errors in the arguments are written before the log file is opened.
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const server = new TlsRedisUnderTest(port, dir, child, options);
    try {
      const deadline = Date.now() + TIMEOUT_MS;
      let last = 'not checked yet';
      for (;;) {
        if (!server.alive) {
          const output = await readFile(logFile, 'utf8').catch(() => '');
          const reason = server.spawnError ? String(server.spawnError) : `code ${child.exitCode}, ${child.signalCode}`;
          throw new Error(
            `TLS redis-server on port ${port} exited (${reason}):\n${output.split('\n').slice(-20).join('\n')}`,
          );
        }
        const probe = server.admin({
          lazyConnect: true,
          enableReadyCheck: false,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          connectTimeout: 5_000,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          await probe.ping();
          return server;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        } finally {
          probe.disconnect();
        }
        if (Date.now() > deadline)
          throw new Error(`timed out after ${TIMEOUT_MS} ms waiting for TLS redis-server on port ${port}: ${last}`);
        await sleep(200);
      }
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** An ioredis client over TLS with the CA (and the client certificate when required); caller disconnects. */
  admin(options: RedisOptions = {}): Redis {
    const { certificates, requireClientCerts } = this.options;
    const clientCert = requireClientCerts
      ? { cert: readFileSync(certificates.clientCertFile), key: readFileSync(certificates.clientKeyFile) }
      : {};
    return new Redis({
      host: '127.0.0.1',
      port: this.port,
      tls: { ca: readFileSync(certificates.caFile), ...clientCert },
      ...options,
    });
  }

  async stop(): Promise<void> {
    if (this.alive) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGKILL');
      await exited;
    }
    if (this.stopped) return;
    this.stopped = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  private get alive(): boolean {
    return !this.spawnError && this.child.exitCode === null && this.child.signalCode === null;
  }
}
