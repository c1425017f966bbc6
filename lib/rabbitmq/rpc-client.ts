import { randomUUID } from 'node:crypto';
import type { ConsumeMessage, Message, Options } from 'amqplib';
import type { Clock } from '../core/clock.js';
import { invalidDurationArgument } from '../core/duration-argument.js';
import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import { PoolClosedError } from '../core/errors/pool-closed.error.js';
import { PoolExhaustedError } from '../core/errors/pool-exhausted.error.js';
import type { MqLogger } from '../core/logger.js';
import type { MessageSerializer } from '../core/message-serializer.js';
import { isOptionBag } from '../core/option-checks.js';
import type { PoolStats } from '../core/pool-stats.js';
import { pendingPromise } from '../core/settlers.js';
import { errorMessage } from '../core/with-deadline.js';
import { activeTracer, runInContext } from '../telemetry/index.js';
import type { ConnectionSet } from './connection-set.js';
import type { ConnectionSlot } from './connection-slot.js';
import { ConnectionUnavailableError } from './errors/connection-unavailable.error.js';
import { PublishFailedError } from './errors/publish-failed.error.js';
import { PublishRejectedError } from './errors/publish-rejected.error.js';
import { RpcTimeoutError } from './errors/rpc-timeout.error.js';
import { UnroutableMessageError } from './errors/unroutable-message.error.js';
import { causedClose, isClosedChannelError, isNack } from './lane-channel.js';
import { nextMessageId } from './publish-message.js';
import type { RabbitMqMetricsRecorder, RpcErrorReason } from './rabbitmq-metrics.js';
import { PendingRequest, RpcCorrelationMap } from './rpc-correlation-map.js';
import { ReplyChannel, type ReplyChannelHooks } from './rpc-reply-channel.js';
import { decodeReply, DIRECT_REPLY_TO } from './rpc-reply.js';
import { RpcTrace } from './rpc-trace.js';
import type { RabbitRequestOptions } from './subscribe-options.js';

export interface RpcClientDeps {
  /** The pool's name in errors: `rabbitmq:<name>`. */
  name: string;
  connections: ConnectionSet;
  serializer: MessageSerializer;
  /** Default deadline of a request (`rpc.timeoutMs`). */
  timeoutMs: number;
  /** `rpc.maxOutstanding`. */
  maxOutstanding: number;
  /** Bound of the reply channel's open and close round trips (`connectTimeoutMs`). */
  channelTimeoutMs: number;
  /** The channel pool's counters, for PoolExhaustedError. */
  poolStats(): PoolStats;
  /** Resolves at the next change of connection state, or after `ms`. */
  nextChange(ms: number): Promise<void>;
  clock: Clock;
  logger: MqLogger;
  metrics: RabbitMqMetricsRecorder;
}

export interface RpcClientStats {
  /** Requests awaiting their reply (sent, or waiting for the reply channel). */
  outstanding: number;
  /** Requests that got no reply within their deadline, all time. */
  timeouts: number;
  /** Replies dropped because no request awaited them (after its timeout, or an unknown correlation id), all time. */
  lateReplies: number;
}

/** A request with what it takes to write it (again, on a new reply channel) and to trace it. */
class OutgoingRequest extends PendingRequest {
  readonly messageId = nextMessageId();

  constructor(
    correlationId: string,
    exchange: string,
    routingKey: string,
    timeoutMs: number,
    startedAt: number,
    readonly body: Buffer,
    readonly contentType: string,
    readonly headers: Record<string, unknown>,
    readonly trace: RpcTrace | undefined,
  ) {
    super(correlationId, exchange, routingKey, timeoutMs, startedAt);
  }
}

/**
 * `request()` over RabbitMQ's direct reply-to: no reply queue is declared; each request is
 * published with a fresh correlation id and `replyTo: amq.rabbitmq.reply-to` on the one reply
 * channel (see ReplyChannel), whose consumer receives the replies and settles the request.
 *
 * - Bounded: at most `maxOutstanding` requests await their reply; one more fails at once with
 *   PoolExhaustedError.
 * - A deadline on every request, waiting for the channel included (RpcTimeoutError once sent;
 *   ConnectionUnavailableError when no connection came up to send it). A reply arriving later is
 *   dropped and counted. The request also expires in its queue at its deadline (`expiration`), so
 *   a backlog does not make servers answer requests nobody awaits any more.
 * - `mandatory`: a request no queue is bound for fails at once with UnroutableMessageError.
 * - The reply channel is opened on first use on a publisher connection and again after it died;
 *   requests sent on a dead one fail at once with ConnectionUnavailableError (their reply can no
 *   longer arrive: direct reply-to is bound to the channel), except the one whose publish made the
 *   broker close it (PublishFailedError, e.g. a missing exchange).
 *
 * States: open → draining (no new requests; sent ones may still get their reply) → closed.
 */
export class RpcClient implements ReplyChannelHooks {
  private readonly requests: RpcCorrelationMap<OutgoingRequest>;
  private channel: ReplyChannel | undefined;
  private opening: Promise<ReplyChannel | undefined> | undefined;
  private state: 'open' | 'draining' | 'closed' = 'open';
  private timeouts = 0;
  private lateReplies = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: RpcClientDeps) {
    this.requests = new RpcCorrelationMap<OutgoingRequest>(deps.maxOutstanding, deps.clock);
    // amqplib closes a dead connection's channels itself, but say it as soon as the slot knows.
    deps.connections.events.on('down', ({ slot, cause }) => {
      if (this.channel?.slot === slot) this.channel.markClosed(cause);
    });
  }

  request<R>(
    exchange: string,
    routingKey: string,
    payload: unknown,
    options?: RabbitRequestOptions,
  ): Promise<R> {
    if (this.state !== 'open') {
      return this.refuse(new PoolClosedError(this.deps.name, this.state), 'closed');
    }
    const timeoutMs = options?.timeoutMs ?? this.deps.timeoutMs;
    const invalid = invalidDurationArgument(
      'timeoutMs',
      timeoutMs,
      false,
      '{ timeoutMs: 5000 } or omit it',
    );
    if (invalid !== undefined) return this.refuse(invalid, 'invalid');
    const headers = options?.headers ?? {};
    if (!isOptionBag(headers)) {
      return this.refuse(
        new InvalidPoolOptionsError(
          'headers',
          'must be an object of header names to values',
          "pass e.g. { headers: { 'x-tenant': 'acme' } } or omit it",
        ),
        'invalid',
      );
    }
    if (this.requests.full) {
      return this.refuse(
        new PoolExhaustedError({
          pool: this.deps.name,
          reason: 'maxOutstanding',
          stats: this.deps.poolStats(),
          maxOutstanding: { limit: this.requests.max, option: 'rabbitmq.rpc.maxOutstanding' },
        }),
        'exhausted',
      );
    }
    let encoded;
    try {
      encoded = this.deps.serializer.serialize(payload);
    } catch (error) {
      return this.refuse(error, 'invalid');
    }
    const correlationId = randomUUID();
    const tracer = activeTracer();
    const request = new OutgoingRequest(
      correlationId,
      exchange,
      routingKey,
      timeoutMs,
      this.deps.clock.now(),
      encoded.content,
      encoded.contentType,
      headers,
      tracer === undefined
        ? undefined
        : new RpcTrace(tracer, this.deps.name, exchange, routingKey, correlationId),
    );
    const promise = pendingPromise<unknown>(request);
    this.requests.add(request, (r) => this.expired(r));
    void this.send(request);
    return promise as Promise<R>;
  }

  stats(): RpcClientStats {
    return {
      outstanding: this.requests.size,
      timeouts: this.timeouts,
      lateReplies: this.lateReplies,
    };
  }

  /** Drain, first step: new requests fail with PoolClosedError; sent ones may still get their reply. */
  stopRequests(): void {
    if (this.state === 'open') this.state = 'draining';
  }

  /** Resolves when no request awaits its reply, or at `deadlineAt` (clock time). Returns those still waiting. */
  async whenSettled(deadlineAt: number): Promise<number> {
    const { clock } = this.deps;
    while (this.requests.size > 0 && clock.now() < deadlineAt) {
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(resolve, Math.max(1, deadlineAt - clock.now()));
        timer.unref?.();
        this.idleWaiters.push(() => {
          clock.clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.requests.size;
  }

  /** Rejects what still awaits a reply with PoolClosedError and closes the reply channel. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const request of this.requests.takeAll()) {
      this.fail(request, new PoolClosedError(this.deps.name, 'closed'), 'closed');
    }
    const rc = this.channel;
    this.channel = undefined;
    if (rc?.alive) await rc.close(this.deps.channelTimeoutMs, this.deps.clock);
  }

  // ---- ReplyChannelHooks ----

  reply(message: ConsumeMessage): void {
    const request = this.requests.take(message.properties.correlationId);
    if (request === undefined) {
      this.lateReplies++;
      this.deps.metrics.rpcLateReply();
      this.deps.logger.debug(
        'RPC reply dropped: no request awaits it (it timed out, or the correlation id is unknown)',
        { pool: this.deps.name, correlationId: message.properties.correlationId as unknown },
      );
      return;
    }
    this.deps.metrics.rpcReplySeconds((this.deps.clock.now() - request.startedAt) / 1000);
    let decoded;
    try {
      decoded = decodeReply(message.content, message.properties, this.deps.serializer);
    } catch (error) {
      this.fail(request, error, 'invalid');
      return;
    }
    if (!decoded.ok) {
      this.fail(request, decoded.error, 'remote');
      return;
    }
    request.trace?.end();
    request.resolve(decoded.value);
    this.settled();
  }

  returned(message: Message): void {
    const request = this.requests.take(message.properties.correlationId);
    if (request === undefined) return;
    const { replyCode, replyText } = message.fields as unknown as {
      replyCode: number;
      replyText: string;
    };
    this.fail(
      request,
      new UnroutableMessageError(
        request.exchange,
        request.routingKey,
        request.messageId,
        replyCode,
        replyText,
      ),
      'unroutable',
    );
  }

  closed(rc: ReplyChannel, reason: Error | undefined): void {
    if (this.channel === rc) this.channel = undefined;
    const lost = this.requests.takeAll((r) => r.sentOn === rc);
    if (lost.length > 0) {
      this.deps.logger.warn('RPC reply channel closed with requests awaiting their reply', {
        pool: this.deps.name,
        requests: lost.length,
        reason: reason ? errorMessage(reason) : 'connection lost',
      });
    }
    const code = (reason as { code?: unknown } | undefined)?.code;
    for (const request of lost) {
      if (reason !== undefined && causedClose(reason, request) === true) {
        const failure = new PublishFailedError(
          request.exchange,
          request.routingKey,
          request.messageId,
          typeof code === 'number' ? code : undefined,
          reason,
        );
        this.fail(request, failure, 'channel_error');
      } else {
        const failure = new ConnectionUnavailableError(
          'the RPC reply channel closed before the reply arrived, so it can no longer arrive ' +
            `(request to exchange "${request.exchange}" with routing key "${request.routingKey}"); the request may have been handled`,
          reason,
        );
        this.fail(request, failure, 'connection');
      }
    }
  }

  // ---- internals ----

  private async send(request: OutgoingRequest): Promise<void> {
    while (!request.done) {
      let rc: ReplyChannel | undefined;
      try {
        rc = await this.replyChannel(request);
      } catch (error) {
        if (this.requests.take(request.correlationId) === request) {
          this.fail(request, error, 'connection');
        }
        return;
      }
      // Past its deadline: the deadline timer settles it.
      if (rc === undefined || request.done) return;
      if (!rc.alive) continue;
      try {
        this.write(rc, request);
        return;
      } catch (error) {
        request.sentOn = undefined;
        // The channel is closed or closing: try the next one. Anything else is this request's fault.
        if (isClosedChannelError(error)) rc.markClosed(error as Error);
        if (!rc.alive) continue;
        if (this.requests.take(request.correlationId) === request) {
          this.fail(request, error, 'invalid');
        }
        return;
      }
    }
  }

  private write(rc: ReplyChannel, request: OutgoingRequest): void {
    const options: Options.Publish = {
      correlationId: request.correlationId,
      replyTo: DIRECT_REPLY_TO,
      mandatory: true,
      contentType: request.contentType,
      messageId: request.messageId,
      // Whole ms: the broker closes the channel on a fractional expiration.
      expiration: String(Math.ceil(request.timeoutMs)),
      headers: request.headers,
    };
    const publish = (): void =>
      rc.publish(request.exchange, request.routingKey, request.body, options, (error) =>
        this.confirmed(request, error),
      );
    request.sentOn = rc;
    const trace = request.trace;
    if (trace === undefined) {
      publish();
      return;
    }
    const traced = trace.beforePublish(rc.channel, request.headers, request.body.length);
    options.headers = traced.headers;
    runInContext(traced.ctx, publish);
  }

  /** The broker's confirm of a request: a nack fails it now; a close is handled by `closed()`. */
  private confirmed(request: OutgoingRequest, error: Error | null): void {
    if (error === null || !isNack(error)) return;
    if (this.requests.take(request.correlationId) !== request) return;
    this.fail(
      request,
      new PublishRejectedError(request.exchange, request.routingKey, request.messageId),
      'rejected',
    );
  }

  private expired(request: OutgoingRequest): void {
    if (request.sentOn !== undefined) {
      this.timeouts++;
      this.fail(
        request,
        new RpcTimeoutError(
          request.exchange,
          request.routingKey,
          request.timeoutMs,
          request.correlationId,
        ),
        'timeout',
      );
      return;
    }
    const cause = this.deps.connections.lastError();
    this.fail(
      request,
      new ConnectionUnavailableError(
        `no publisher connection to send the request on within its timeoutMs (${request.timeoutMs}ms)` +
          (cause === undefined ? '' : `: ${errorMessage(cause)}`),
        cause,
      ),
      'connection',
    );
  }

  /** The live reply channel, opened when there is none; undefined once the request's deadline passed. */
  private async replyChannel(request: OutgoingRequest): Promise<ReplyChannel | undefined> {
    const { clock } = this.deps;
    for (;;) {
      const current = this.channel;
      if (current?.alive) return current;
      if (request.done || this.state === 'closed') return undefined;
      this.opening ??= this.open().finally(() => {
        this.opening = undefined;
      });
      const rc = await this.opening;
      if (rc !== undefined) return rc;
      // No publisher connection up: wait for one (the connection slots reconnect), within the deadline.
      const left = request.startedAt + request.timeoutMs - clock.now();
      if (left <= 0 || request.done) return undefined;
      await this.deps.nextChange(left);
    }
  }

  private async open(): Promise<ReplyChannel | undefined> {
    const slot = this.pickSlot();
    if (slot === undefined) return undefined;
    const generation = slot.generation;
    let rc: ReplyChannel;
    try {
      rc = await ReplyChannel.open(slot, this, {
        clock: this.deps.clock,
        logger: this.deps.logger,
        timeoutMs: this.deps.channelTimeoutMs,
      });
    } catch (error) {
      // The connection went during the open: the next one will do.
      if (!slot.isUp || slot.generation !== generation) return undefined;
      throw new ConnectionUnavailableError(
        `the RPC reply channel could not be opened: ${errorMessage(error)}`,
        error,
      );
    }
    if (this.state === 'closed') {
      await rc.close(this.deps.channelTimeoutMs, this.deps.clock);
      return undefined;
    }
    if (rc.alive) this.channel = rc;
    this.deps.logger.debug('RPC reply channel open', { pool: this.deps.name });
    return rc;
  }

  /** An up publisher connection, unblocked first. */
  private pickSlot(): ConnectionSlot | undefined {
    let blocked: ConnectionSlot | undefined;
    for (const slot of this.deps.connections.publishers) {
      if (!slot.isUp) continue;
      if (!slot.blocked) return slot;
      blocked ??= slot;
    }
    return blocked;
  }

  private refuse<R>(error: unknown, reason: RpcErrorReason): Promise<R> {
    this.deps.metrics.rpcRequestError(reason);
    return Promise.reject(error);
  }

  private fail(request: OutgoingRequest, error: unknown, reason: RpcErrorReason): void {
    this.deps.metrics.rpcRequestError(reason);
    request.trace?.end(error, reason);
    request.reject(error);
    this.settled();
  }

  private settled(): void {
    if (this.requests.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
