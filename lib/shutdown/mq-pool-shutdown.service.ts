import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnModuleDestroy,
} from '@nestjs/common';
import { MqPoolReadiness } from '../health/mq-pool-readiness.js';
import { AppPools, type AppPoolEntry } from '../nest/app-pools.js';
import { DEFAULT_POOL_NAME } from '../nest/mq-pool.constants.js';
import { type DrainOutcome, drainWithin } from './drain-outcome.js';

/**
 * Graceful shutdown of every pool of the app (with `app.enableShutdownHooks()`, on SIGTERM; or on
 * `app.close()`), in DESIGN §4 order:
 * 1. `onModuleDestroy`: readiness goes down — readiness probes fail from now on;
 * 2. `beforeApplicationShutdown` (the HTTP server still answers, so probes SEE the down state and
 *    in-flight requests finish): every pool of every registration, RabbitMQ and Kafka, drains in
 *    parallel under its registration's `shutdown.drainTimeoutMs` — new acquires fail with
 *    `PoolClosedError` (503 through the filter), consumers are cancelled, in-flight handlers,
 *    leases and confirms are awaited, then channels and connections close;
 * 3. one drain report is logged (stats before and after, per pool);
 * 4. `onApplicationShutdown` (after the HTTP server closed): each registration closes what is left.
 */
@Injectable()
export class MqPoolShutdown implements OnModuleDestroy, BeforeApplicationShutdown {
  private drained: Promise<void> | undefined = undefined;

  constructor(
    @Inject(AppPools) private readonly pools: AppPools,
    @Inject(MqPoolReadiness) private readonly readiness: MqPoolReadiness,
  ) {}

  onModuleDestroy(): void {
    this.readiness.markShuttingDown();
  }

  beforeApplicationShutdown(signal?: string): Promise<void> {
    this.readiness.markShuttingDown();
    this.drained ??= this.drainAll(signal);
    return this.drained;
  }

  private async drainAll(signal: string | undefined): Promise<void> {
    const entries = this.pools.all();
    if (entries.length === 0) return;
    const started = performance.now();
    const outcomes = await Promise.all(entries.flatMap((entry) => drains(entry)));
    const logger = (entries.find((e) => e.name === DEFAULT_POOL_NAME) ?? entries[0]!).options
      .logger;
    const timedOut = outcomes.some((o) => isTimedOut(o.report));
    const message = `message-broker pools drained in ${Math.round(performance.now() - started)}ms${timedOut ? ' (deadline passed)' : ''}`;
    const fields = { signal: signal ?? null, pools: outcomes };
    if (timedOut) logger.warn(message, fields);
    else logger.info(message, fields);
  }
}

function drains(entry: AppPoolEntry): Promise<DrainOutcome>[] {
  const budget = entry.options.drainTimeoutMs;
  const out: Promise<DrainOutcome>[] = [];
  if (entry.rabbitmq) out.push(drainWithin(entry.rabbitmq, entry.name, 'rabbitmq', budget));
  if (entry.kafka) out.push(drainWithin(entry.kafka, entry.name, 'kafka', budget));
  return out;
}

function isTimedOut(report: unknown): boolean {
  const r = report as { timedOut?: unknown; error?: unknown } | undefined;
  return r?.timedOut === true || r?.error !== undefined;
}
