import { EventEmitter } from 'node:events';
import type { ConfirmChannel, Message } from 'amqplib';

import type { Lease } from '../../../../lib/core/lease.js';
import { NOOP_LOGGER } from '../../../../lib/core/logger.js';
import { WaitBound } from '../../../../lib/core/wait-bound.js';
import type { ConnectionSlot } from '../../../../lib/rabbitmq/connection-slot.js';
import { PooledChannel } from '../../../../lib/rabbitmq/pooled-channel.js';
import { PublisherLane } from '../../../../lib/rabbitmq/publisher-lane.js';
import {
  NOOP_RABBITMQ_METRICS,
  type PublishErrorReason,
} from '../../../../lib/rabbitmq/rabbitmq-metrics.js';
import { FakeClock, flush } from '../../core/support/fake-clock.js';

/**
 * A PublisherLane on fake time over stand-in channels, for the lane's pure logic (deadlines, queue,
 * channel lifecycle, returns). What happens on a real broker is proven in test/integration/rabbitmq.
 */

type Confirm = (err: Error | null) => void;

interface Sent {
  exchange: string;
  routingKey: string;
  body: Buffer;
  options: { messageId?: string; headers?: Record<string, unknown> };
  cb: Confirm;
}

/** amqplib's error for a publish on a closed/closing channel (its class is not exported). */
export function illegalOperation(message: string): Error {
  const error = new Error(message);
  error.name = 'IllegalOperationError';
  return error;
}

export class FakeChannel extends EventEmitter {
  readonly sent: Sent[] = [];
  /** Thrown by every publish while set (amqplib after a close). */
  throwing: Error | undefined;

  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: Sent['options'],
    cb: Confirm,
  ): boolean {
    if (this.throwing) throw this.throwing;
    // amqplib refuses some property values while encoding, before anything is written.
    if (options.headers?.bad !== undefined) throw new TypeError('Unknown type to encode: symbol');
    this.sent.push({ exchange, routingKey, body, options, cb });
    return true;
  }

  ack(i: number): void {
    this.sent[i]!.cb(null);
  }

  /** What amqplib does when the channel/connection goes: every unconfirmed callback gets an error. */
  failUnconfirmed(): void {
    for (const s of this.sent.splice(0)) s.cb(new Error('channel closed'));
  }

  /** A basic.return of sent message `i`. */
  returnSent(i: number): void {
    const s = this.sent[i]!;
    const msg = {
      content: s.body,
      fields: {
        exchange: s.exchange,
        routingKey: s.routingKey,
        replyCode: 312,
        replyText: 'NO_ROUTE',
      },
      properties: { messageId: s.options.messageId },
    } as unknown as Message;
    this.emit('return', msg);
  }
}

export interface FakeLease extends Lease<PooledChannel> {
  released: number;
  /** Ended by destroy(), or released after the channel was retired (the pool then destroys it). */
  destroyed: unknown[];
}

/** What the pool's retire() recorded, by channel (PooledChannel calls it before its close listeners). */
const retired = new WeakMap<PooledChannel, Error | undefined>();
export const retireInFakePool = (pc: PooledChannel, reason: Error | undefined): void => {
  retired.set(pc, reason);
};

export function fakeLease(pc: PooledChannel): FakeLease {
  const lease: FakeLease = {
    resource: pc,
    released: 0,
    destroyed: [],
    release: () => {
      // Like the core pool: a retired resource is destroyed on release, never pooled again.
      if (retired.has(pc)) lease.destroyed.push(retired.get(pc));
      else lease.released++;
    },
    destroy: (reason?: unknown) => {
      lease.destroyed.push(reason);
      return Promise.resolve();
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return lease;
}

export function rig(
  opts: {
    timeoutMs?: number;
    rotateAfterMs?: number;
    publishChannels?: number;
    maxWaiting?: number;
    lastFailure?: () => unknown;
  } = {},
) {
  const clock = new FakeClock();
  const slot = { blocked: false, isUp: true, generation: 1 } as unknown as ConnectionSlot & {
    blocked: boolean;
  };
  const pending: Array<(lease: FakeLease) => void> = [];
  const refusals: Array<(error: unknown) => void> = [];
  const waitBound = new WaitBound(opts.maxWaiting ?? 100_000);
  const errors: PublishErrorReason[] = [];
  const lane = new PublisherLane({
    name: 'test',
    publishChannels: opts.publishChannels ?? 1,
    maxInFlightPerChannel: 8,
    waitBound,
    acquireTimeoutMs: opts.timeoutMs ?? 1_000,
    confirmTimeoutMs: 60_000,
    rotateAfterMs: opts.rotateAfterMs ?? 0,
    // Channels arrive only when the test grants them, so nothing here can loop on its own.
    acquire: () =>
      new Promise<Lease<PooledChannel>>((resolve, reject) => {
        pending.push(resolve);
        refusals.push(reject);
      }),
    poolStats: () => ({
      max: 1,
      size: 0,
      idle: 0,
      leased: 0,
      creating: 0,
      validating: 0,
      waiting: 0,
      leaks: 0,
      draining: false,
      closed: false,
    }),
    lastFailure: opts.lastFailure ?? (() => undefined),
    clock,
    logger: NOOP_LOGGER,
    metrics: { ...NOOP_RABBITMQ_METRICS, publishError: (reason) => errors.push(reason) },
  });
  const newChannel = (): PooledChannel =>
    new PooledChannel(new FakeChannel() as unknown as ConfirmChannel, slot, 1, retireInFakePool);
  /** Grants the lane's next acquire (a fresh channel unless `pc` is given). */
  const grant = async (pc: PooledChannel = newChannel()) => {
    for (let i = 0; pending.length === 0; i++) {
      if (i > 100) throw new Error('the lane asked for no channel');
      await flush();
    }
    const lease = fakeLease(pc);
    refusals.shift();
    pending.shift()!(lease);
    await flush();
    return { pc, ch: pc.channel as unknown as FakeChannel, lease };
  };
  /** Fails the lane's oldest request for a channel with `error`. */
  const deny = async (error: unknown) => {
    pending.shift();
    refusals.shift()!(error);
    await flush();
  };
  /** The lane's first channel, after a confirmed warm-up publish (the lane asks for channels on demand). */
  const open = async () => {
    const warm = lane.publish('', 'q', Buffer.from('warm'));
    const granted = await grant();
    granted.ch.ack(0);
    await warm;
    granted.ch.sent.length = 0;
    return granted;
  };
  return { clock, slot, lane, grant, deny, open, pending, errors, waitBound };
}

/** The settlement of `promise` as it happens (`at` on the rig's clock when given). */
export function outcomeOf(promise: Promise<void>, clock?: FakeClock) {
  const out: { done: boolean; at?: number; error?: unknown } = { done: false };
  promise.then(
    () => {
      out.done = true;
      out.at = clock?.now();
    },
    (error: unknown) => {
      out.done = true;
      out.at = clock?.now();
      out.error = error;
    },
  );
  return out;
}

/** The connection under `pc` was lost: closed, and amqplib fails every unconfirmed callback. */
export function loseConnection(pc: PooledChannel): void {
  pc.markClosed(undefined);
  (pc.channel as unknown as FakeChannel).failUnconfirmed();
}
