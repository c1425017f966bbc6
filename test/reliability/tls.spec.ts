import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqPoolError } from '../../lib/core/errors/mq-pool.error.js';
import { BrokerTlsError } from '../../lib/core/errors/broker-tls.error.js';
import { RabbitMqPool } from '../../lib/rabbitmq/index.js';
import {
  createDisposableRabbitMq,
  isDisposableRabbitMqSupported,
  type DisposableRabbitMq,
} from '../support/disposable-rabbitmq.js';
import { sleep, testLogger, uniqueName } from '../integration/rabbitmq/support/rabbitmq-admin.js';
import { recordFigure } from './support/figures.js';
import { createTestCertificates, type TestCertificates } from './support/tls-certs.js';

/** OpenSSL verify codes a client reports when the server's chain does not lead to a trusted CA. */
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);
/** Window over which a failing pool's connect attempts are counted. */
const WINDOW_MS = 3_000;
/**
 * Upper bound of connect attempts in WINDOW_MS for both connection slots of a pool with the default
 * reconnect backoff (full jitter from 100 ms, capped at 1 s: about 6–8 per slot). A loop without
 * backoff makes hundreds: a failed TLS handshake on loopback takes a few ms.
 */
const MAX_ATTEMPTS_IN_WINDOW = 40;

/**
 * Scenario 10: an `amqps://` connection to a disposable RabbitMQ node whose TLS listener serves a
 * certificate generated here. With the test CA passed through `socketOptions.ca` the pool publishes
 * and consumes over TLS; with an unrelated CA it fails with a typed error whose cause is the
 * certificate verification error, and keeps retrying with backoff, not in a hot loop.
 */
describe.skipIf(!isDisposableRabbitMqSupported())('reliability #10: TLS (amqps)', () => {
  let certs: TestCertificates;
  let node: DisposableRabbitMq;
  let tlsUrl: string;

  beforeAll(async () => {
    certs = await createTestCertificates();
    node = await createDisposableRabbitMq({ label: 'tls', tls: certs });
    await node.start();
    tlsUrl = `amqps://guest:guest@127.0.0.1:${node.tlsPort!}`;
  }, 180_000);

  afterAll(async () => {
    await node?.dispose();
    await certs?.dispose();
  }, 60_000);

  it('amqps with the test CA: publish with confirms and consume work, the broker sees a TLS connection', async () => {
    const ca = await readFile(certs.cacertfile);
    const connectionName = uniqueName('rel-tls');
    const pool = new RabbitMqPool(
      { url: tlsUrl, connectionName, socketOptions: { ca: [ca] } },
      { name: 'tls', logger: testLogger() },
    );
    const queue = uniqueName('rel-tls-q');
    const started = performance.now();
    try {
      await pool.start();
      const connectMs = performance.now() - started;
      await pool.withChannel((ch) => ch.assertQueue(queue, { durable: false }));

      const received: string[] = [];
      const consumer = await pool.consume(queue, (msg) => {
        received.push(msg.content.toString());
      });
      const count = 50;
      const roundTripStart = performance.now();
      await Promise.all(
        Array.from({ length: count }, (_, i) => pool.sendToQueue(queue, `tls-${i}`)),
      );
      const deadline = Date.now() + 20_000;
      while (received.length < count && Date.now() < deadline) await sleep(20);
      const roundTripMs = performance.now() - roundTripStart;
      expect(received.sort()).toEqual(Array.from({ length: count }, (_, i) => `tls-${i}`).sort());

      // The broker's view: every connection of this pool is a TLS one.
      const rows = (await node.ctl('-q', 'list_connections', 'ssl', 'ssl_protocol', 'port'))
        .trim()
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.split('\t'));
      const onTlsPort = rows.filter((r) => r[2] === String(node.tlsPort));
      expect(onTlsPort.length).toBeGreaterThanOrEqual(1);
      for (const r of onTlsPort) expect(r[0]).toBe('true');
      const protocol = onTlsPort[0]![1]!;

      await consumer.cancel();
      await pool.withChannel((ch) => ch.deleteQueue(queue));
      recordFigure({
        scenario: 10,
        title: 'amqps with a generated certificate',
        expectation: 'publish (confirmed) and consume over TLS work',
        result: `${count}/${count} confirmed and consumed over ${protocol}; connect ${Math.round(connectMs)} ms, round trip ${Math.round(roundTripMs)} ms`,
      });
    } finally {
      await pool.close();
    }
  });

  it('amqps with the wrong CA: typed error caused by the certificate verification, no hot reconnect loop', async () => {
    const wrongCa = await readFile(certs.wrongCacertfile);
    const logger = testLogger();
    const pool = new RabbitMqPool(
      {
        url: tlsUrl,
        connectionName: uniqueName('rel-tls-bad'),
        socketOptions: { ca: [wrongCa] },
        connectTimeoutMs: 2_000,
        acquireTimeoutMs: 1_500,
      },
      { name: 'tls-bad', logger },
    );
    try {
      const startError = await pool.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      // A certificate that does not verify is final: start() fails at once with the TLS error.
      expect(startError).toBeInstanceOf(BrokerTlsError);
      expect((startError as Error).message).toMatch(/TLS certificate verification failed/);
      const cause = (startError as Error).cause as (Error & { code?: string }) | undefined;
      expect(cause).toBeInstanceOf(Error);
      expect(VERIFY_CODES.has(cause!.code ?? '')).toBe(true);

      // A caller sees a typed library error too, at its deadline, with the TLS failure as the cause.
      const publishError = await pool.sendToQueue('any-queue', 'x', { timeoutMs: 1_500 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(publishError).toBeInstanceOf(MqPoolError);
      expect(causeChainCodes(publishError).some((c) => VERIFY_CODES.has(c))).toBe(true);

      const before = pool.stats().connectAttempts;
      await sleep(WINDOW_MS);
      const attempts = pool.stats().connectAttempts - before;
      expect(attempts).toBeGreaterThanOrEqual(1); // it keeps trying (the CA may be fixed by rotation)
      expect(attempts).toBeLessThanOrEqual(MAX_ATTEMPTS_IN_WINDOW);
      expect(logger.lines.join('\n')).not.toContain('guest:guest');
      expect(pool.health().healthy).toBe(false);

      recordFigure({
        scenario: 10,
        title: 'amqps with the wrong CA',
        expectation: `typed error, cause = certificate verify error; ≤ ${MAX_ATTEMPTS_IN_WINDOW} connect attempts in ${WINDOW_MS / 1000} s`,
        result: `${(startError as MqPoolError).code} (cause ${cause!.code}); publish → ${(publishError as MqPoolError).code}; ${attempts} connect attempts in ${WINDOW_MS / 1000} s`,
      });
    } finally {
      await pool.close();
    }
  });
});

function causeChainCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return codes;
}
