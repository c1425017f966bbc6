import type { MqLogger } from './logger.js';

type Listener<P> = (payload: P) => void;

/**
 * A tiny typed event emitter. Unlike Node's EventEmitter it has no special `'error'` event that
 * crashes the process when unheard, and a listener that throws is logged and skipped: observers
 * can never break the pool that emits to them.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Listener<never>[]>();

  constructor(
    private readonly logger: MqLogger,
    private readonly source: string,
  ) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners.get(event);
    // Copy-on-write: an emit in progress keeps iterating the list it started with.
    this.#listeners.set(event, list === undefined ? [listener] : [...list, listener]);
    return this;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.#listeners.get(event);
    if (list === undefined) return this;
    const index = list.lastIndexOf(listener);
    if (index === -1) return this;
    const next = list.filter((_, i) => i !== index);
    if (next.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, next);
    return this;
  }

  /** True when someone listens: lets callers skip building a payload nobody reads. */
  hasListeners(event: keyof Events): boolean {
    return this.#listeners.has(event);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.#listeners.get(event) as Listener<Events[K]>[] | undefined;
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (error) {
        this.logger.error(`${this.source}: a '${String(event)}' listener threw; ignored`, {
          error,
        });
      }
    }
  }
}
