import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';

import { SYSTEM_CLOCK } from '../../../lib/core/clock.js';
import { FakeClock, flush } from '../core/support/fake-clock.js';
import { NOOP_LOGGER } from '../../../lib/core/logger.js';
import { ChannelFactory } from '../../../lib/rabbitmq/channel-factory.js';
import type { ConnectionSet } from '../../../lib/rabbitmq/connection-set.js';
import type { ConnectionSlot } from '../../../lib/rabbitmq/connection-slot.js';
import { ConnectionUnavailableError } from '../../../lib/rabbitmq/errors/connection-unavailable.error.js';

/**
 * The race where the connection drops (and comes back: a new generation) while a channel is being
 * opened on it, with amqplib's channel close not seen yet. A stand-in connection set: only the
 * factory's bookkeeping is under test here (the real broker paths are in test/integration/rabbitmq).
 */
describe('ChannelFactory', () => {
  it('fails the create, rather than return a dead channel, when the connection changed during the open', async () => {
    const slot = {
      isUp: true,
      blocked: false,
      generation: 1,
      channelCount: 0,
      lastError: new Error('connection lost'),
      model: {
        createConfirmChannel: async () => {
          slot.generation++; // the connection was lost and replaced while the open was in flight
          const ch = new EventEmitter();
          return Object.assign(ch, { close: async () => undefined });
        },
      },
    };
    const connections = standInConnections(slot);
    const factory = new ChannelFactory(connections, {
      channelsPerConnection: 4,
      waitForConnectionMs: 100,
      rpcTimeoutMs: 1_000,
      clock: SYSTEM_CLOCK,
      logger: NOOP_LOGGER,
    });
    const error = await factory.create().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionUnavailableError);
    expect((error as Error).cause).toBe(slot.lastError);
    expect(factory.openCount).toBe(0);
    expect((slot as unknown as ConnectionSlot).channelCount).toBe(0);
  });

  it('keeps no backoff of its own: after an open failed on a live connection, the next create opens at once', async () => {
    let opens = 0;
    const slot = {
      isUp: true,
      blocked: false,
      generation: 1,
      channelCount: 0,
      lastError: undefined,
      model: {
        createConfirmChannel: async () => {
          if (++opens === 1) throw new Error('channel.open refused');
          const ch = new EventEmitter();
          return Object.assign(ch, { close: async () => undefined });
        },
      },
    };
    const connections = standInConnections(slot);
    // Time never moves here: a pause on a timer would keep the second create pending.
    const factory = new ChannelFactory(connections, {
      channelsPerConnection: 4,
      waitForConnectionMs: 100,
      rpcTimeoutMs: 1_000,
      clock: new FakeClock(),
      logger: NOOP_LOGGER,
    });
    await expect(factory.create()).rejects.toThrow('channel.open refused');
    let created = false;
    void factory.create().then(() => (created = true));
    await flush();
    expect(created).toBe(true);
    expect(opens).toBe(2);
  });
});

/** A connection set of one publisher connection that is up and never changes. */
function standInConnections(slot: object): ConnectionSet {
  return {
    publishers: [slot],
    events: new EventEmitter(),
    notifyChange: () => undefined,
    onNextChange: () => () => undefined,
    lastError: () => undefined,
    anyPublisherUp: () => true,
  } as unknown as ConnectionSet;
}
