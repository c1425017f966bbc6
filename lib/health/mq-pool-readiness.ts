import type { PoolKind } from '../nest/mq-pool.constants.js';

/** A declared message handler as readiness sees it (`@RabbitSubscribe`, `@RabbitRpc`, `@KafkaSubscribe`). */
export interface ReadinessHandler {
  readonly kind: PoolKind;
  /** Registration name of its pool. */
  readonly pool: string;
  /** `Class.method`. */
  readonly name: string;
  /** Attached to its queue / joined its group right now (false before the first attach and while re-attaching). */
  readonly attached: boolean;
}

/**
 * Readiness of the application's pools, one per app. The shutdown hooks flip it down before the
 * drain starts, so readiness probes fail (and the load balancer stops routing) while in-flight
 * work finishes. Declared message handlers keep their pool's readiness down until each of them is
 * attached: an instance whose handlers do not consume is not doing its job. Liveness never reads
 * it: a draining process is alive.
 */
export class MqPoolReadiness {
  private shuttingDown = false;
  private readonly handlers = new Set<ReadinessHandler>();

  get ready(): boolean {
    return !this.shuttingDown;
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Declares handlers before they attach; returns the function that forgets them again. */
  trackHandlers(handlers: readonly ReadinessHandler[]): () => void {
    for (const h of handlers) this.handlers.add(h);
    return () => {
      for (const h of handlers) this.handlers.delete(h);
    };
  }

  /** Why the pool `kind`/`pool` is not ready because of its handlers, or undefined when all are attached. */
  handlersDownReason(kind: PoolKind, pool: string): string | undefined {
    let total = 0;
    const detached: string[] = [];
    for (const h of this.handlers) {
      if (h.kind !== kind || h.pool !== pool) continue;
      total++;
      if (!h.attached) detached.push(h.name);
    }
    if (detached.length === 0) return undefined;
    return `message handlers not attached (${total - detached.length}/${total} attached; waiting: ${detached.join(', ')})`;
  }
}
