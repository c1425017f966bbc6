import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { amqpUrl, kafkaBrokers } from './broker-env.js';

/**
 * Vitest globalSetup of the integration and e2e projects: makes sure a real RabbitMQ and a real
 * Kafka answer before any test runs. A broker that does not answer a protocol-level probe is
 * brought up by `scripts/brokers.sh up` (its progress shows in the test log); if it still does
 * not answer, the run fails here with the script's reason instead of in every test.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROBE = fileURLToPath(new URL('../../scripts/brokers/probe.mjs', import.meta.url));
// Both projects use this setup; the second one in the same run only re-probes.
const ANNOUNCED = 'MQ_POOL_BROKERS_ANNOUNCED';

interface ProbeResult {
  readonly ok: boolean;
  readonly line: string;
}

function probe(kind: 'amqp' | 'kafka', target: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE, kind, target], { cwd: ROOT }, (error, stdout, stderr) => {
      resolve({ ok: error === null, line: (error === null ? stdout : stderr).trim() });
    });
  });
}

async function probeBoth(): Promise<[ProbeResult, ProbeResult]> {
  return Promise.all([probe('amqp', amqpUrl()), probe('kafka', kafkaBrokers().join(','))]);
}

function brokersScript(command: 'up' | 'status'): number | null {
  const result = spawnSync('bash', ['scripts/brokers.sh', command], {
    cwd: ROOT,
    stdio: 'inherit',
    env: process.env,
  });
  if (result.error) throw result.error;
  return result.status;
}

export default async function setup(): Promise<void> {
  let [rabbit, kafka] = await probeBoth();
  if (rabbit.ok && kafka.ok && process.env[ANNOUNCED] === '1') return;

  if (!rabbit.ok || !kafka.ok) {
    const missing = [
      rabbit.ok ? undefined : `RabbitMQ (${rabbit.line})`,
      kafka.ok ? undefined : `Kafka (${kafka.line})`,
    ].filter((entry) => entry !== undefined);
    console.log(`[brokers] not reachable: ${missing.join('; ')}. Running scripts/brokers.sh up.`);
    const status = brokersScript('up');
    [rabbit, kafka] = await probeBoth();
    if (status !== 0 || !rabbit.ok || !kafka.ok) {
      throw new Error(
        `Brokers are not available (scripts/brokers.sh up exited ${String(status)}). ` +
          `RabbitMQ: ${rabbit.ok ? 'ok' : rabbit.line}. Kafka: ${kafka.ok ? 'ok' : kafka.line}. ` +
          'See the messages above and the logs under .brokers/, or set AMQP_URL / KAFKA_BROKERS ' +
          'to brokers of your own.',
      );
    }
  }

  // Once per run: which brokers (and which Kafka version) this test run talks to.
  brokersScript('status');
  process.env[ANNOUNCED] = '1';
}
