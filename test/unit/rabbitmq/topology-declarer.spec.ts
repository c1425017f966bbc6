import { describe, expect, it } from 'vitest';
import { SYSTEM_CLOCK } from '../../../lib/core/clock.js';
import { NOOP_LOGGER } from '../../../lib/core/logger.js';
import type { PoolChannelLease } from '../../../lib/rabbitmq/channel-lease.js';
import { TopologyMismatchError } from '../../../lib/rabbitmq/errors/topology-mismatch.error.js';
import { TopologyDeclarer } from '../../../lib/rabbitmq/topology-declarer.js';
import { validateTopology } from '../../../lib/rabbitmq/topology-options.validator.js';

/** A lease over a fake channel that records declarations and can refuse a queue with 406. */
function rig(refuseQueue?: string) {
  const calls: string[] = [];
  const ends: string[] = [];
  const channel = {
    assertExchange: async (name: string) => void calls.push(`exchange ${name}`),
    assertQueue: async (name: string, options: { arguments?: Record<string, unknown> }) => {
      if (name === refuseQueue) {
        throw Object.assign(
          new Error(
            `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '${name}' in vhost '/': received the value 'quorum' of type 'longstr' but current is none"`,
          ),
          { code: 406 },
        );
      }
      calls.push(`queue ${name} ${JSON.stringify(options.arguments ?? {})}`);
    },
    bindQueue: async (q: string, x: string, key: string) =>
      void calls.push(`bind ${q} ${x} ${key}`),
  };
  const acquire = async (): Promise<PoolChannelLease> =>
    ({
      channel,
      release: () => void ends.push('release'),
      destroy: async () => void ends.push('destroy'),
    }) as unknown as PoolChannelLease;
  const topology = validateTopology(
    {
      exchanges: [{ name: 'x', type: 'topic' }],
      queues: [{ name: 'q', type: 'quorum' }],
      bindings: [{ exchange: 'x', queue: 'q', routingKey: '#' }],
    },
    'rabbitmq.topology',
  );
  const declarer = new TopologyDeclarer(topology, {
    acquire,
    timeoutMs: 1_000,
    clock: SYSTEM_CLOCK,
    logger: NOOP_LOGGER,
  });
  return { declarer, calls, ends };
}

describe('TopologyDeclarer', () => {
  it('declares exchanges, queues, bindings in order on one lease; concurrent callers share the round', async () => {
    const { declarer, calls, ends } = rig();
    await Promise.all([declarer.ready(), declarer.ready()]);
    expect(calls).toEqual(['exchange x', 'queue q {"x-queue-type":"quorum"}', 'bind q x #']);
    expect(ends).toEqual(['release']);
    await declarer.ready(); // still current: nothing declared again
    expect(calls).toHaveLength(3);
  });

  it('declares again after a connection loss', async () => {
    const { declarer, calls } = rig();
    await declarer.ready();
    declarer.invalidate();
    await declarer.ready();
    expect(calls).toHaveLength(6);
  });

  it('a 406 rejects with TopologyMismatchError, destroys the lease and is kept as lastError until a round succeeds', async () => {
    const { declarer, ends } = rig('q');
    const error = await declarer.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopologyMismatchError);
    expect(error).toMatchObject({ entity: { kind: 'queue', name: 'q' }, argument: 'x-queue-type' });
    expect(ends).toEqual(['destroy']);
    expect(declarer.lastError).toBe(error);
  });

  it('an empty topology costs nothing', async () => {
    const declarer = new TopologyDeclarer(validateTopology(undefined, 't'), {
      acquire: () => Promise.reject(new Error('never called')),
      timeoutMs: 1,
      clock: SYSTEM_CLOCK,
      logger: NOOP_LOGGER,
    });
    expect(declarer.empty).toBe(true);
    await expect(declarer.ready()).resolves.toBeUndefined();
  });
});
