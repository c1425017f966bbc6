import type { ConfirmChannel, Message } from 'amqplib';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Lease } from '../core/lease.js';
import { UnroutableMessageError } from './errors/unroutable-message.error.js';
import type { PooledChannel } from './pooled-channel.js';
import type { PublishJob } from './publish-job.js';

/** What a lane channel reports to its lane. */
export interface LaneHooks {
  readonly clock: Clock;
  now(): number;
  readonly maxInFlight: number;
  readonly confirmTimeoutMs: number;
  /** The broker answered (`error` null = ack) or the channel closed under the job. */
  confirmed(job: PublishJob, error: Error | null, from: LaneChannel): void;
  /** `publish` threw synchronously because the channel is closed or closing: the job was not written. */
  notWritten(job: PublishJob, error: unknown, from: LaneChannel): void;
  /**
   * `publish` threw synchronously on a live channel: amqplib refused to encode the message (a
   * TypeError/RangeError for a bad property or an oversized header table). Nothing was written, the
   * channel is fine, and every channel would refuse it the same way.
   */
  invalid(job: PublishJob, error: unknown): void;
  timedOut(job: PublishJob): void;
  /** Room for more publishes on this channel (a confirm or a write-buffer drain). */
  capacity(from: LaneChannel): void;
  died(from: LaneChannel, reason: Error | undefined): void;
}

// amqplib settles every outstanding confirm callback with this exact error when the broker nacks;
// any other error means the channel closed under the publish.
const NACK_MESSAGE = 'message nacked';

export function isNack(error: Error): boolean {
  return error.message === NACK_MESSAGE;
}

/**
 * Whether a synchronous throw of `publish` says the channel (or its connection) is closed or closing:
 * amqplib then throws its IllegalOperationError ("Channel closed", "Connection closing"…). Recognised by
 * name, since amqplib's package exports do not expose the class. Anything else (TypeError, RangeError
 * while encoding the properties) is about the message, not the channel.
 */
export function isClosedChannelError(error: unknown): boolean {
  return error instanceof Error && error.name === 'IllegalOperationError';
}

/**
 * Whether `job` is the publish that made the broker close its channel (channel.close naming
 * basic.publish, class 60 method 40): its exchange is the one the reply names ("NOT_FOUND - no
 * exchange 'x' in vhost '/'", "cannot publish to internal exchange 'x'"), or its body has the size
 * a `max_message_size` refusal names (406 "message size N is larger than max size M"). `false`: an
 * innocent sibling on the same pipelined channel; `undefined`: the close was not caused by a publish.
 */
export function causedClose(
  reason: Error | undefined,
  job: { readonly exchange: string; readonly body: Buffer },
): boolean | undefined {
  if (!reason) return undefined;
  const r = reason as Error & { classId?: number; methodId?: number };
  if (r.classId !== 60 || r.methodId !== 40) return undefined;
  const exchange = /exchange '([^']*)'/.exec(r.message)?.[1];
  if (exchange !== undefined) return exchange === job.exchange;
  const size = /message size (\d+) is larger than/.exec(r.message)?.[1];
  if (size !== undefined) return Number(size) === job.body.length;
  return undefined;
}

/**
 * One confirm channel leased long-term by the publisher lane, with confirms pipelined on it.
 * In flight is bounded (`maxInFlight`); a full socket write buffer (`publish` returned false) stops new
 * writes until 'drain'. Sent jobs are kept in send order so one timer, armed for the oldest, enforces
 * `confirmTimeoutMs` for all of them.
 */
export class LaneChannel {
  inFlight = 0;
  writable = true;
  dead = false;
  released = false;
  /** Being rotated out: takes no new publishes, released once its in-flight ones are confirmed. */
  retiring = false;
  rotateTimer: TimerHandle | undefined;
  readonly pc: PooledChannel;
  private readonly ch: ConfirmChannel;
  /** Sent, unconfirmed jobs in send order: slots [head, tail). Cleared slots are reused, the array never shrinks. */
  private sent: Array<PublishJob | undefined> = [];
  private head = 0;
  private tail = 0;
  private timer: TimerHandle | undefined;
  /**
   * In-flight mandatory jobs by messageId. messageIds are the caller's and need not be unique, so an id
   * maps to one job or, when several with that id are in flight, to them in send order.
   */
  private readonly returns = new Map<string, PublishJob | PublishJob[]>();
  private readonly offClose: () => void;
  private readonly onDrain = (): void => {
    this.writable = true;
    this.hooks.capacity(this);
  };
  private readonly onReturn = (msg: Message): void => {
    const id = msg.properties.messageId as unknown;
    const entry = typeof id === 'string' ? this.returns.get(id) : undefined;
    if (entry === undefined) return;
    let job: PublishJob | undefined;
    if (!Array.isArray(entry)) job = entry;
    else {
      // The broker returns in publish order, but acks may come out of order (an unroutable publish is
      // acked at once, a routed persistent one only once stored): the earliest same-id job may be a
      // routed one still awaiting its ack. So take the earliest not yet returned whose exchange, routing
      // key and size match what came back.
      const { exchange, routingKey } = msg.fields;
      const size = msg.content.length;
      job = entry.find(
        (j) =>
          j.returned === undefined &&
          j.exchange === exchange &&
          j.routingKey === routingKey &&
          j.body.length === size,
      );
      if (!job) return;
    }
    job.returned = new UnroutableMessageError(
      msg.fields.exchange,
      msg.fields.routingKey,
      job.messageId,
      (msg.fields as { replyCode?: number }).replyCode ?? 312,
      (msg.fields as { replyText?: string }).replyText ?? 'NO_ROUTE',
    );
  };

  constructor(
    readonly lease: Lease<PooledChannel>,
    private readonly hooks: LaneHooks,
  ) {
    this.pc = lease.resource;
    this.ch = this.pc.channel;
    this.ch.on('drain', this.onDrain);
    this.ch.on('return', this.onReturn);
    this.offClose = this.pc.onClose((reason) => this.die(reason));
  }

  get ready(): boolean {
    return (
      !this.dead &&
      !this.retiring &&
      this.writable &&
      this.inFlight < this.hooks.maxInFlight &&
      !this.pc.slot.blocked
    );
  }

  send(job: PublishJob): void {
    job.attempts++;
    job.sentAt = this.hooks.now();
    if (job.mandatory) {
      // A return of an earlier attempt (on a channel that then died) says nothing about this one.
      job.returned = undefined;
      this.trackReturn(job);
    }
    let writable: boolean;
    try {
      writable = this.ch.publish(
        job.exchange,
        job.routingKey,
        job.body,
        job.options,
        (err: Error | null) => this.settle(job, err),
      );
    } catch (error) {
      if (job.mandatory) this.untrackReturn(job);
      if (isClosedChannelError(error) || this.pc.closed) {
        // We learnt it is dead: markClosed retires it in the pool first, then runs die() (our close listener).
        this.pc.markClosed(error as Error);
        this.die(error as Error);
        this.hooks.notWritten(job, error, this);
      } else {
        // The message, not the channel: retrying it would throw again, on every channel, forever.
        this.hooks.invalid(job, error);
      }
      return;
    }
    job.written = true;
    this.inFlight++;
    this.sent[this.tail++] = job;
    if (this.timer === undefined) this.arm(job.sentAt);
    if (!writable) this.writable = false;
  }

  /** Stops using the channel and hands the lease back (the pool destroys it if it died). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.disarm();
    if (this.rotateTimer !== undefined) this.hooks.clock.clearTimeout(this.rotateTimer);
    this.rotateTimer = undefined;
    this.ch.off('drain', this.onDrain);
    this.ch.off('return', this.onReturn);
    this.offClose();
    // A dead channel was retired in the pool before the lane heard of its close: released, it is destroyed.
    this.lease.release();
  }

  private settle(job: PublishJob, err: Error | null): void {
    this.inFlight--;
    if (job.mandatory) this.untrackReturn(job);
    // Any other error than a nack means the channel closed under the publish (see isNack).
    if (err !== null && !isNack(err)) this.pc.markClosed(err);
    if (!job.settled) this.hooks.confirmed(job, err, this);
    // Drop settled jobs from the front so confirmed bodies are not retained until the next timeout check.
    // Cleared slots let settled jobs (and their bodies) die young instead of being promoted by the GC.
    const sent = this.sent;
    while (this.head < this.tail && (sent[this.head] as PublishJob).settled)
      sent[this.head++] = undefined;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 4096 && this.head * 2 > this.tail) {
      // Long-stuck head (an unconfirmed job while thousands pass it): compact.
      this.sent = sent.slice(this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    if (!this.dead) this.hooks.capacity(this);
  }

  private die(reason: Error | undefined): void {
    if (this.dead) return;
    this.dead = true;
    this.disarm();
    this.sent = [];
    this.head = 0;
    this.tail = 0;
    if (!this.released) this.hooks.died(this, reason);
  }

  private trackReturn(job: PublishJob): void {
    const entry = this.returns.get(job.messageId);
    if (entry === undefined) this.returns.set(job.messageId, job);
    else if (Array.isArray(entry)) entry.push(job);
    else this.returns.set(job.messageId, [entry, job]);
  }

  /** Forgets exactly `job`, not whichever job last used its messageId. */
  private untrackReturn(job: PublishJob): void {
    const entry = this.returns.get(job.messageId);
    if (entry === job) this.returns.delete(job.messageId);
    else if (Array.isArray(entry)) {
      const i = entry.indexOf(job);
      if (i >= 0) entry.splice(i, 1);
      if (entry.length === 0) this.returns.delete(job.messageId);
    }
  }

  private arm(oldestSentAt: number): void {
    const delay = Math.max(1, oldestSentAt + this.hooks.confirmTimeoutMs - this.hooks.now());
    this.timer = this.hooks.clock.setTimeout(() => this.checkTimeouts(), delay);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.hooks.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private checkTimeouts(): void {
    this.timer = undefined;
    if (this.dead) return;
    const now = this.hooks.now();
    const limit = this.hooks.confirmTimeoutMs;
    const sent = this.sent;
    while (this.head < this.tail) {
      const job = sent[this.head] as PublishJob;
      if (!job.settled) {
        if (job.sentAt + limit > now) break;
        // Still counted in flight until the broker answers or the channel dies: the broker has it.
        this.hooks.timedOut(job);
      }
      sent[this.head++] = undefined;
    }
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    }
    const next = this.head < this.tail ? sent[this.head] : undefined;
    if (next) this.arm(next.sentAt);
  }
}
