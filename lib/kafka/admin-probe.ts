import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import { BrokerUnreachableError } from './errors/broker-unreachable.error.js';
import type { DriverAdmin, KafkaDriver } from './kafka-driver.js';
import type { KafkaMetricsRecorder } from './kafka-metrics.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';

export interface PingResult {
  ok: boolean;
  agoMs: number;
  durationMs: number;
  brokers?: number;
  error?: string;
}

/**
 * Health ping through ONE long-lived admin client: connected on first use, reused by every probe
 * (a probe never opens a connection of its own), reconnected by the client when a broker returns.
 * Each ping is one metadata round trip bounded by the caller's timeout.
 */
export class AdminProbe {
  private admin: DriverAdmin | undefined;
  private connected: Promise<void> | undefined;
  private everConnected = false;
  private last:
    { ok: boolean; at: number; durationMs: number; brokers?: number; error?: string } | undefined;
  private closed = false;
  /** Pings in progress, each settling (never rejecting) when it ends or its timeout passes. */
  private readonly inFlight = new Set<Promise<void>>();
  /** close() has disconnected the admin client: a request settling later disconnects it again. */
  private disconnectedOnClose = false;

  constructor(
    private readonly driver: KafkaDriver,
    private readonly clock: Clock,
    private readonly logger: MqLogger,
    private readonly metrics: KafkaMetricsRecorder,
    private readonly scrub: (text: string) => string,
  ) {}

  async ping(timeoutMs: number): Promise<void> {
    if (this.closed) throw new BrokerUnreachableError('ping', timeoutMs, 'the pool is closed');
    const start = this.clock.now();
    const work = this.connect().then((admin) =>
      admin.describeCluster().finally(() => this.afterRequest(admin)),
    );
    const bounded = withDeadline(
      work,
      timeoutMs,
      this.clock,
      () => new BrokerUnreachableError('ping', timeoutMs, 'no metadata answer (timeout)'),
    );
    const settled = bounded.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    try {
      const cluster = await bounded;
      this.last = {
        ok: true,
        at: this.clock.now(),
        durationMs: this.clock.now() - start,
        brokers: cluster.brokers.length,
      };
    } catch (error) {
      const failure =
        error instanceof BrokerUnreachableError
          ? error
          : new BrokerUnreachableError('ping', timeoutMs, this.scrub(errorMessage(error)), {
              cause: error,
            });
      this.last = {
        ok: false,
        at: this.clock.now(),
        durationMs: this.clock.now() - start,
        error: failure.message,
      };
      throw failure;
    }
  }

  lastPing(): PingResult | undefined {
    const l = this.last;
    if (!l) return undefined;
    return {
      ...l,
      agoMs: Math.round(this.clock.now() - l.at),
      durationMs: Math.round(l.durationMs),
    };
  }

  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    const admin = this.admin;
    const connected = this.connected;
    this.admin = undefined;
    this.connected = undefined;
    if (!admin || !connected) return;
    // A connect or metadata request still in flight (re)opens connections after a disconnect issued
    // now (kafkajs completes the connect; its request retry reconnects): disconnect once the
    // connect settled (a failed one may hold a half-open connection too) and the pings in progress
    // ended or timed out. Past the deadline the chain still runs: closed late rather than never.
    const disconnected = Promise.allSettled([connected, ...this.inFlight]).then(() => {
      this.disconnectedOnClose = true;
      return admin.disconnect();
    });
    try {
      await withDeadline(
        disconnected,
        timeoutMs,
        this.clock,
        () => new Error('admin disconnect timed out'),
      );
    } catch (error) {
      this.logger.debug('Kafka admin disconnect failed', {
        error: this.scrub(errorMessage(error)),
      });
    }
  }

  /** A metadata request that outlived close()'s disconnect (a timed-out ping) may have reconnected. */
  private afterRequest(admin: DriverAdmin): void {
    if (this.disconnectedOnClose) admin.disconnect().catch(() => undefined);
  }

  private connect(): Promise<DriverAdmin> {
    const admin = (this.admin ??= this.driver.admin());
    if (!this.connected) {
      const attempt = admin.connect().then(() => {
        if (this.everConnected) this.metrics.reconnected('admin');
        this.everConnected = true;
      });
      this.connected = attempt;
      // A failed connect is retried by the next ping, on the same client.
      attempt.catch(() => {
        if (this.connected === attempt) this.connected = undefined;
      });
    }
    return this.connected.then(() => admin);
  }
}
