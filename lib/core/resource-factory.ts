import { InvalidPoolOptionsError } from './errors/invalid-pool-options.error.js';

/**
 * How a `Pool` makes, checks and disposes of its resources. Broker adapters implement it
 * (a channel factory, a producer factory, ...); the pool knows nothing else about them.
 */
export interface ResourceFactory<T> {
  /**
   * Makes one resource. `signal` aborts when the pool drains or closes: an attempt still running
   * then should give up. A resource resolved after the pool closed is destroyed at once.
   */
  create(signal?: AbortSignal): Promise<T>;
  /** Disposes of a resource. Called exactly once per created resource. Errors are logged, never thrown. */
  destroy(resource: T): Promise<void>;
  /**
   * Optional health check on borrow. Called only for a resource that idled at least
   * `validateAfterIdleMs`, so the hot path stays cheap. `false` or a throw destroys it.
   */
  validate?(resource: T): Promise<boolean> | boolean;
}

/** Rejects a factory without `create()` and `destroy()` (or with a `validate` that is not a function). */
export function checkResourceFactory(factory: unknown): void {
  const f = factory as Partial<Record<keyof ResourceFactory<unknown>, unknown>> | null;
  if (
    typeof f !== 'object' ||
    f === null ||
    typeof f.create !== 'function' ||
    typeof f.destroy !== 'function' ||
    (f.validate !== undefined && typeof f.validate !== 'function')
  ) {
    throw new InvalidPoolOptionsError(
      'factory',
      'must be an object with create() and destroy() functions (and optionally validate())',
      'pass a ResourceFactory<T>',
    );
  }
}
