import type { ConsumerFailedError } from './errors/consumer-failed.error.js';

/** Events of `KafkaPool` (`pool.on(name, listener)`). */
export interface KafkaPoolEvents {
  /** A managed consumer crashed and will be restarted after `restartInMs`. */
  consumerCrash: { groupId: string; error: Error; restartInMs: number; restartsInWindow: number };
  /** A managed consumer crashed too often: not restarted, readiness down. */
  consumerFailed: { groupId: string; error: ConsumerFailedError };
  /** A managed consumer's group started rebalancing. */
  consumerRebalance: { groupId: string };
  /** A managed consumer joined (or re-joined) its group. */
  consumerJoin: { groupId: string; memberId: string; assignment: Record<string, number[]> };
  /** A producer was replaced: the shared one (`transactionalId` null) or a transactional one. */
  producerReplaced: { transactionalId: string | null; reason: string };
}

export type KafkaPoolEventName = keyof KafkaPoolEvents;
