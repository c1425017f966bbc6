import { LeaseReleasedError } from './errors/lease-released.error.js';
import type { AcquisitionSite } from './acquisition-site.js';
import type { PooledResource } from './pooled-resource.js';

/**
 * Exclusive use of one pooled resource until released. Single use: once ended (released,
 * destroyed, or revoked by a drain past its deadline) it refuses every use, so a resource is
 * never reachable by two holders.
 *
 * ```ts
 * await using lease = await pool.acquire();
 * use(lease.resource);
 * ```
 */
export interface Lease<T> {
  /** The resource. Throws `LeaseReleasedError` once the lease ended. */
  readonly resource: T;
  /** Returns the resource to the pool. Idempotent; a no-op after `destroy()`. */
  release(): void;
  /**
   * Retires a broken resource instead of returning it: it is destroyed and its slot freed for a
   * replacement. Resolves when `factory.destroy()` settled (never rejects for a destroy error).
   * Rejects with `LeaseReleasedError` if the lease was already released.
   */
  destroy(reason?: unknown): Promise<void>;
  /** `release()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a lease needs from its pool. */
export interface LeaseOwner<T> {
  readonly name: string;
  releaseLease(lease: PoolLease<T>): void;
  destroyLease(lease: PoolLease<T>, reason: unknown): Promise<void>;
}

export const LeaseEnd = { Live: 0, Released: 1, Destroyed: 2, Revoked: 3 } as const;
export type LeaseEnd = (typeof LeaseEnd)[keyof typeof LeaseEnd];
const HOW = [undefined, 'released', 'destroyed', 'revoked'] as const;

const RESOLVED: Promise<void> = Promise.resolve();

/** The pool's lease. One object per checkout, never reused. */
export class PoolLease<T> implements Lease<T> {
  ended: LeaseEnd = LeaseEnd.Live;
  private destroyed: Promise<void> | undefined = undefined;

  constructor(
    private readonly owner: LeaseOwner<T>,
    readonly entry: PooledResource<T>,
    readonly site: AcquisitionSite | undefined,
  ) {}

  get resource(): T {
    if (this.ended !== LeaseEnd.Live)
      throw new LeaseReleasedError(this.owner.name, HOW[this.ended]);
    return this.entry.resource;
  }

  release(): void {
    if (this.ended !== LeaseEnd.Live) return;
    this.ended = LeaseEnd.Released;
    this.owner.releaseLease(this);
  }

  destroy(reason?: unknown): Promise<void> {
    switch (this.ended) {
      case LeaseEnd.Live:
        this.ended = LeaseEnd.Destroyed;
        this.destroyed = this.owner.destroyLease(this, reason);
        return this.destroyed;
      case LeaseEnd.Destroyed:
        return this.destroyed ?? RESOLVED;
      case LeaseEnd.Revoked:
        return RESOLVED; // the drain destroyed it already
      default:
        return Promise.reject(new LeaseReleasedError(this.owner.name, 'released'));
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return RESOLVED;
  }

  /** Ended by the pool (drain deadline): later uses throw, `release()` is a no-op. */
  revoke(): void {
    this.ended = LeaseEnd.Revoked;
  }
}
