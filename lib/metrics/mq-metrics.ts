import { Counter, Gauge, Histogram, type Registry, type RegistryContentType } from 'prom-client';
import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import type { PoolKind } from '../nest/mq-pool.constants.js';
import {
  ACQUIRE_BUCKETS,
  HANDLER_BUCKETS,
  MQ_METRIC,
  PUBLISH_BUCKETS,
  RPC_BUCKETS,
} from './metric-names.js';

export type MetricsRegistry = Registry<RegistryContentType>;

/** What a gauge reads from one running pool at scrape time. */
export interface PoolGaugeSample {
  connections: number;
  idle: number;
  leased: number;
  waiting: number;
  /** The bound on idle + leased; undefined when the pool has none (Kafka without transactions). */
  max: number | undefined;
}

/** A running pool, sampled by the gauges' `collect()`. */
export interface PoolStatsSource {
  readonly pool: string;
  readonly broker: PoolKind;
  sample(): PoolGaugeSample;
}

type BaseLabels = 'pool' | 'broker';
/** Where a declarative handler's messages come from: `queue` (RabbitMQ) or `topic` (Kafka). */
type SourceLabels = 'queue' | 'topic';

/**
 * The library's metrics on one prom-client registry, created once per registry.
 *
 * Why direct prom-client and not `makeGaugeProvider()` from @willsoto/nestjs-prometheus: its
 * get-or-create looks only at prom-client's global registry (a registry from the options would
 * throw "already registered" on the second module), a `customMetricPrefix` would rename the
 * contract's metric names, and a gauge's `collect()` would stay bound to the first module's pools.
 * Here the bundle hangs off the registry object itself (under a global symbol), so two pools, two
 * test modules, or two copies of this module loaded by a test runner all share one set of metrics;
 * the gauges read whatever pools are running at scrape time, never the hot path. The app still
 * serves them with `PrometheusModule.register()` (global registry) or its own registry.
 */
export class MqMetrics {
  readonly connections: Gauge<BaseLabels>;
  readonly channels: Gauge<BaseLabels | 'state'>;
  readonly channelsMax: Gauge<BaseLabels>;
  readonly waiting: Gauge<BaseLabels>;
  readonly acquireSeconds: Histogram<BaseLabels>;
  readonly acquireErrors: Counter<BaseLabels | 'reason'>;
  readonly leaks: Counter<BaseLabels>;
  readonly reconnects: Counter<BaseLabels>;
  readonly publishSeconds: Histogram<BaseLabels>;
  readonly publishErrors: Counter<BaseLabels | 'reason'>;
  readonly consume: Counter<BaseLabels | 'outcome'>;
  readonly handlerMessages: Counter<BaseLabels | SourceLabels | 'outcome'>;
  readonly handlerSeconds: Histogram<BaseLabels | SourceLabels>;
  readonly rpcRequestSeconds: Histogram<BaseLabels>;
  readonly rpcRequestErrors: Counter<BaseLabels | 'reason'>;
  readonly rpcLateReplies: Counter<BaseLabels>;
  readonly rpcServed: Counter<BaseLabels | 'queue' | 'outcome'>;

  private readonly sources = new Set<PoolStatsSource>();

  constructor() {
    const sources = this.sources;
    const labelNames = ['pool', 'broker'] as const;
    const sampled = (
      read: (
        s: PoolGaugeSample,
        set: (labels: Record<string, string>, v: number) => void,
        base: Record<BaseLabels, string>,
      ) => void,
    ) =>
      function collect(this: Gauge<string>): void {
        // Only running pools are exposed: a closed pool's series disappear instead of going stale.
        this.reset();
        for (const source of sources) {
          let s: PoolGaugeSample;
          try {
            s = source.sample();
          } catch {
            continue; // a scrape never fails because one pool could not report
          }
          read(s, (labels, v) => this.set(labels, v), { pool: source.pool, broker: source.broker });
        }
      };
    this.connections = new Gauge({
      name: MQ_METRIC.connections,
      help: 'Open broker connections of the pool (sampled at scrape time).',
      labelNames,
      registers: [],
      collect: sampled((s, set, base) => set(base, s.connections)),
    });
    this.channels = new Gauge({
      name: MQ_METRIC.channels,
      help: 'Pooled channels (RabbitMQ) or transactional producers (Kafka) by state (sampled at scrape time).',
      labelNames: [...labelNames, 'state'],
      registers: [],
      collect: sampled((s, set, base) => {
        set({ ...base, state: 'idle' }, s.idle);
        set({ ...base, state: 'leased' }, s.leased);
      }),
    });
    this.channelsMax = new Gauge({
      name: MQ_METRIC.channelsMax,
      help: 'Most pooled channels (RabbitMQ: connections x channelsPerConnection) or transactional producers (Kafka) the pool may hold (sampled at scrape time).',
      labelNames,
      registers: [],
      collect: sampled((s, set, base) => {
        if (s.max !== undefined) set(base, s.max);
      }),
    });
    this.waiting = new Gauge({
      name: MQ_METRIC.waiting,
      help: 'Callers waiting for a pooled resource (sampled at scrape time).',
      labelNames,
      registers: [],
      collect: sampled((s, set, base) => set(base, s.waiting)),
    });
    this.acquireSeconds = new Histogram({
      name: MQ_METRIC.acquireSeconds,
      help: 'Time from acquire() to a granted lease, in seconds.',
      labelNames,
      buckets: ACQUIRE_BUCKETS,
      registers: [],
    });
    this.acquireErrors = new Counter({
      name: MQ_METRIC.acquireErrors,
      help: 'Failed acquires by reason (timeout, exhausted, closed, aborted).',
      labelNames: [...labelNames, 'reason'],
      registers: [],
    });
    this.leaks = new Counter({
      name: MQ_METRIC.leaks,
      help: 'Leases held longer than leakDetectionMs.',
      labelNames,
      registers: [],
    });
    this.reconnects = new Counter({
      name: MQ_METRIC.reconnects,
      help: 'Broker connections or clients re-established after a loss.',
      labelNames,
      registers: [],
    });
    this.publishSeconds = new Histogram({
      name: MQ_METRIC.publishSeconds,
      help: 'Time from publish/send to the broker acknowledgement, in seconds.',
      labelNames,
      buckets: PUBLISH_BUCKETS,
      registers: [],
    });
    this.publishErrors = new Counter({
      name: MQ_METRIC.publishErrors,
      help: 'Publishes/sends that failed, by reason.',
      labelNames: [...labelNames, 'reason'],
      registers: [],
    });
    this.consume = new Counter({
      name: MQ_METRIC.consume,
      help: 'Consumed messages by outcome.',
      labelNames: [...labelNames, 'outcome'],
      registers: [],
    });
    // One series set for both brokers: a RabbitMQ handler sets `queue`, a Kafka handler `topic`.
    this.handlerMessages = new Counter({
      name: MQ_METRIC.handlerMessages,
      help: 'Messages of declarative handlers by outcome (handled, failed, retried, dead_lettered, discarded).',
      labelNames: [...labelNames, 'queue', 'topic', 'outcome'],
      registers: [],
    });
    this.handlerSeconds = new Histogram({
      name: MQ_METRIC.handlerSeconds,
      help: 'Duration of one declarative handler call, in seconds.',
      labelNames: [...labelNames, 'queue', 'topic'],
      buckets: HANDLER_BUCKETS,

      registers: [],
    });
    this.rpcRequestSeconds = new Histogram({
      name: MQ_METRIC.rpcRequestSeconds,
      help: 'RabbitMQ request() from the call to its reply (error replies included), in seconds.',
      labelNames,
      buckets: RPC_BUCKETS,
      registers: [],
    });
    this.rpcRequestErrors = new Counter({
      name: MQ_METRIC.rpcRequestErrors,
      help: 'Failed RabbitMQ request() calls by reason (timeout = no reply within the deadline, remote = an error reply).',
      labelNames: [...labelNames, 'reason'],
      registers: [],
    });
    this.rpcLateReplies = new Counter({
      name: MQ_METRIC.rpcLateReplies,
      help: 'RPC replies dropped because no request awaited them (after its timeout, or an unknown correlation id).',
      labelNames,
      registers: [],
    });
    this.rpcServed = new Counter({
      name: MQ_METRIC.rpcServed,
      help: 'Requests handled by serveRpc()/@RabbitRpc handlers, by queue and outcome (ok | error).',
      labelNames: [...labelNames, 'queue', 'outcome'],
      registers: [],
    });
  }

  /** Starts sampling `source` in the gauges; the returned function stops it. */
  addSource(source: PoolStatsSource): () => void {
    this.sources.add(source);
    return () => {
      this.sources.delete(source);
    };
  }

  all(): Array<Gauge<string> | Counter<string> | Histogram<string>> {
    return [
      this.connections,
      this.channels,
      this.channelsMax,
      this.waiting,
      this.acquireSeconds,
      this.acquireErrors,
      this.leaks,
      this.reconnects,
      this.publishSeconds,
      this.publishErrors,
      this.consume,
      this.handlerMessages,
      this.handlerSeconds,
      this.rpcRequestSeconds,
      this.rpcRequestErrors,
      this.rpcLateReplies,
      this.rpcServed,
    ] as Array<Gauge<string> | Counter<string> | Histogram<string>>;
  }
}

// A global symbol: survives a test runner or bundler loading this module twice.
const BUNDLE = Symbol.for('nestjs-mq-pool.metrics');

type RegistryWithBundle = MetricsRegistry & { [BUNDLE]?: MqMetrics };

/**
 * Get-or-create the library's metrics on `registry`. Idempotent; re-registers them if the
 * registry was `clear()`ed since (tests do that); refuses to shadow a same-named metric the
 * library did not create.
 */
export function getMqMetrics(registry: MetricsRegistry): MqMetrics {
  const host = registry as RegistryWithBundle;
  const bundle = (host[BUNDLE] ??= new MqMetrics());
  for (const metric of bundle.all()) {
    const name = (metric as unknown as { name: string }).name;
    const present = registry.getSingleMetric(name);
    if (present === metric) continue;
    if (present !== undefined) {
      throw new InvalidPoolOptionsError(
        'metrics.registry',
        `the registry already holds a metric named "${name}" that nestjs-mq-pool did not create`,
        'remove that metric, or pass a dedicated registry in metrics.registry',
      );
    }
    registry.registerMetric(metric);
  }
  return bundle;
}
