import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throw-away CA and a server certificate it signed, all in one temp directory. */
export interface TestCertificates {
  readonly dir: string;
  /** The CA that signed `certfile`. */
  readonly cacertfile: string;
  /** Server certificate, SAN `IP:127.0.0.1` and `DNS:localhost`. */
  readonly certfile: string;
  readonly keyfile: string;
  /** A second, unrelated CA: a client trusting only this one must reject the server. */
  readonly wrongCacertfile: string;
  dispose(): Promise<void>;
}

/** Generates the certificates with the `openssl` CLI (valid two days; nothing leaves the temp dir). */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'mq-pool-tls-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir, timeout: 30_000 });

  const makeCa = (name: string, cn: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.pem`),
    );
  await makeCa('ca', 'nestjs-mq-pool test CA');
  await makeCa('wrong-ca', 'nestjs-mq-pool unrelated CA');

  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
  );
  await writeFile(
    at('server.ext'),
    [
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      '',
    ].join('\n'),
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    at('server.ext'),
    '-out',
    at('server.pem'),
  );

  return {
    dir,
    cacertfile: at('ca.pem'),
    certfile: at('server.pem'),
    keyfile: at('server.key'),
    wrongCacertfile: at('wrong-ca.pem'),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
