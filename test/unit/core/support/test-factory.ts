import type { ResourceFactory } from '../../../../lib/core/resource-factory.js';

export interface TestResource {
  readonly id: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * An in-memory factory that records everything. By default creation resolves at once; `manual`
 * keeps each creation pending until the test settles it (`pendingCreates`); `failNext(n, error)`
 * makes the next n creations fail.
 */
export class TestFactory implements ResourceFactory<TestResource> {
  created: TestResource[] = [];
  destroyed: TestResource[] = [];
  createCalls = 0;
  validateCalls = 0;
  signals: (AbortSignal | undefined)[] = [];
  readonly pendingCreates: Deferred<TestResource>[] = [];
  manual = false;
  isValid: (resource: TestResource) => Promise<boolean> | boolean = () => true;
  private failures: unknown[] = [];
  private nextId = 1;

  constructor(readonly withValidate = false) {
    if (!withValidate) (this as { validate?: unknown }).validate = undefined;
  }

  failNext(count: number, error: unknown = new Error('connect ECONNREFUSED 127.0.0.1:5672')): void {
    for (let i = 0; i < count; i++) this.failures.push(error);
  }

  failForever(error: unknown = new Error('connect ECONNREFUSED 127.0.0.1:5672')): void {
    this.failNext(1_000_000, error);
  }

  heal(): void {
    this.failures = [];
  }

  create(signal?: AbortSignal): Promise<TestResource> {
    this.createCalls++;
    this.signals.push(signal);
    if (this.failures.length > 0) return Promise.reject(this.failures.shift());
    if (this.manual) {
      const d = deferred<TestResource>();
      this.pendingCreates.push(d);
      return d.promise.then((r) => {
        this.created.push(r);
        return r;
      });
    }
    const resource = this.make();
    this.created.push(resource);
    return Promise.resolve(resource);
  }

  /** A new resource for a manual creation: `factory.pendingCreates[0].resolve(factory.make())`. */
  make(): TestResource {
    return { id: this.nextId++ };
  }

  destroy(resource: TestResource): Promise<void> {
    this.destroyed.push(resource);
    return Promise.resolve();
  }

  validate(resource: TestResource): Promise<boolean> | boolean {
    this.validateCalls++;
    return this.isValid(resource);
  }

  /** Times `factory.destroy()` was called for each created resource. */
  destroyCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const r of this.destroyed) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    return counts;
  }
}
