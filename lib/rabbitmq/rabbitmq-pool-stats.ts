import type { DrainReport } from '../core/pool-stats.js';
import type { RpcClientStats } from './rpc-client.js';

/** `RabbitMqPool.stats()`: counters only, O(connections + consumers), never credentials or hosts. */
export interface RabbitMqPoolStats {
  /** Publisher connections up. */
  connections: number;
  /** Consumer connections up (equal to `connections` when they are shared). */
  consumerConnections: number;
  /** Connections (of either role) blocked by a broker resource alarm; not used for publishing. */
  blocked: number;
  /** The channel pool (publishing channels of the lane included, as leased). */
  channels: { max: number; total: number; idle: number; leased: number; creating: number };
  /** Callers waiting: for a lease, plus publishes waiting for publishing capacity. */
  waiting: number;
  publisher: { channels: number; inFlight: number; waiting: number };
  consumers: { total: number; active: number; inFlight: number };
  /** Connect attempts, all time, all connections (first connects included). */
  connectAttempts: number;
  staleDeliveries: number;
  leaks: number;
  /** `request()`: requests awaiting their reply, timeouts and late (dropped) replies. */
  rpc: RpcClientStats;
  draining: boolean;
  closed: boolean;
}

/** `RabbitMqPool.health()`: computed from state, no I/O. */
export interface RabbitMqHealth {
  healthy: boolean;
  reason?: string;
  details: Record<string, unknown>;
}

/** What `RabbitMqPool.drain()` did, phase by phase (DESIGN §4). */
export interface RabbitMqDrainReport {
  durationMs: number;
  /** Some phase hit the deadline. */
  timedOut: boolean;
  consumersCancelled: number;
  /** Handlers still running at the deadline: their messages go back to the queue when the channel closes. */
  handlersAtDeadline: number;
  /** `request()` calls still awaiting their reply at the deadline: rejected with PoolClosedError. */
  requestsAtDeadline: number;
  /** Publishes unconfirmed at the deadline: rejected (PublishUnconfirmedError), never reported as sent. */
  unconfirmedAtDeadline: number;
  /** Publishes still waiting for a channel at the deadline: rejected with PoolClosedError. */
  waitingPublishesAtDeadline: number;
  /** The channel pool's own drain (leases awaited, channels closed). */
  channels: DrainReport;
  before: RabbitMqPoolStats;
  after: RabbitMqPoolStats;
}
