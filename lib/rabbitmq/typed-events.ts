import type { MqLogger } from '../core/logger.js';
import { errorMessage } from '../core/with-deadline.js';

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A minimal typed event hub. Unlike Node's EventEmitter it has no special 'error' event and a throwing
 * listener is logged, not propagated: a user's listener can never crash a broker callback.
 */
export class TypedEvents<M extends { [K in keyof M]: unknown[] }> {
  private readonly listeners = new Map<keyof M, Set<Listener<unknown[]>>>();

  constructor(private readonly logger: MqLogger) {}

  on<K extends keyof M>(event: K, listener: Listener<M[K]>): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as unknown as Listener<unknown[]>);
    return this;
  }

  off<K extends keyof M>(event: K, listener: Listener<M[K]>): this {
    this.listeners.get(event)?.delete(listener as unknown as Listener<unknown[]>);
    return this;
  }

  emit<K extends keyof M>(event: K, ...args: M[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as unknown as Listener<M[K]>)(...args);
      } catch (error) {
        this.logger.error(`listener of "${String(event)}" threw`, { error: errorMessage(error) });
      }
    }
  }
}
