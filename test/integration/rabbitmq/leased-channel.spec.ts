import type { ConfirmChannel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { LeaseReleasedError } from '../../../lib/core/errors/lease-released.error.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { uniqueName } from './support/rabbitmq-admin.js';

/**
 * The channel a lease hands out is the lease's, not the pooled channel's: a reference kept past
 * the end of its lease refuses every use with LeaseReleasedError, on the real broker, while the
 * pooled channel behind it serves its next holder. And a channel the broker closed is never
 * handed to another holder: it is retired in the pool before its holder hears of the close.
 */
describe('leased channels (real broker)', () => {
  function onePool(tag: string): RabbitMqPool {
    // One channel in all: the next holder necessarily gets the same pooled channel, or a new one
    // if the first died.
    return new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName(tag), channelsPerConnection: 1 },
      { name: tag },
    );
  }

  it('a channel kept from withChannel() throws LeaseReleasedError once the callback settled; the next holder publishes normally', async () => {
    const pool = onePool('it-poison-with');
    const q = uniqueName('poison-q');
    try {
      let kept: ConfirmChannel | undefined;
      await pool.withChannel(async (ch) => {
        await ch.assertQueue(q, { durable: false, autoDelete: false });
        kept = ch;
      });
      const stale = kept!;
      expect(() => stale.sendToQueue(q, Buffer.from('stale'))).toThrow(LeaseReleasedError);
      await expect(async () => stale.checkQueue(q)).rejects.toThrow(LeaseReleasedError);
      expect(() => stale.on('return', () => undefined)).toThrow(LeaseReleasedError);

      // The same pooled channel (max 1) under its next holder: works, and sees only its own message.
      await pool.withChannel(async (ch) => {
        expect(ch === stale).toBe(false); // (expect() would read properties of the stale one)
        ch.sendToQueue(q, Buffer.from('fresh'));
        await ch.waitForConfirms();
        expect(() => stale.sendToQueue(q, Buffer.from('stale'))).toThrow(LeaseReleasedError);
        const { messageCount } = await ch.checkQueue(q);
        expect(messageCount).toBe(1);
        const got = await ch.get(q, { noAck: true });
        expect(got && got.content.toString()).toBe('fresh');
        await ch.deleteQueue(q);
      });
      expect(pool.stats().channels).toMatchObject({ total: 1, leased: 0 });
    } finally {
      await pool.close();
    }
  });

  it('a lease channel kept past release(), and a method fetched before it, both throw LeaseReleasedError', async () => {
    const pool = onePool('it-poison-lease');
    try {
      const lease = await pool.acquire();
      const ch = lease.channel;
      expect(lease.channel).toBe(ch); // one guarded channel per lease
      const check = ch.checkExchange.bind(ch);
      await check('amq.direct'); // fine while leased
      lease.release();
      expect(() => ch.publish('amq.direct', 'x', Buffer.from('late'))).toThrow(LeaseReleasedError);
      expect(() => check('amq.direct')).toThrow(LeaseReleasedError);
      expect(() => lease.channel).toThrow(LeaseReleasedError);

      // The pooled channel itself is fine and goes to the next holder.
      const next = await pool.acquire();
      await next.channel.checkExchange('amq.direct');
      expect(pool.stats().channels.total).toBe(1);
      next.release();
    } finally {
      await pool.close();
    }
  });

  it('a channel the broker closed (404) is never handed to the next holder, even in a pool of one channel', async () => {
    const pool = onePool('it-dead-retired');
    try {
      const failed = await pool
        .withChannel((ch) => ch.checkQueue(uniqueName('missing')))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(String(failed)).toMatch(/404/);
      // Had the dead channel gone back as idle, this would fail with "Channel closed".
      for (let i = 0; i < 3; i++) {
        await pool.withChannel((ch) => ch.checkExchange('amq.direct'));
      }
      expect(pool.stats().channels).toMatchObject({ total: 1, leased: 0 });
    } finally {
      await pool.close();
    }
  });
});
