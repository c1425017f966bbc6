import type { Clock, TimerHandle } from '../core/clock.js';
import { holdProcess, releaseProcess } from '../core/keep-process-alive.js';
import type { Settlers } from '../core/settlers.js';

const unsettled = (): void => undefined;

/**
 * One `request()` awaiting its reply. Settled exactly once, by whoever takes it out of the
 * RpcCorrelationMap (reply, return, nack, channel death, deadline, close): the map is the one place
 * that decides, so a late reply, a return after a timeout or a second close cannot settle it twice.
 */
export class PendingRequest<T = unknown> implements Settlers<T> {
  resolve: (value: T) => void = unsettled;
  reject: (reason: unknown) => void = unsettled;
  /** Out of the map: settled, or being settled by whoever took it. */
  done = false;
  timer: TimerHandle | undefined = undefined;
  /** The reply channel the request was published on; its death means the reply can never arrive. */
  sentOn: object | undefined = undefined;

  constructor(
    readonly correlationId: string,
    readonly exchange: string,
    readonly routingKey: string,
    readonly timeoutMs: number,
    readonly startedAt: number,
  ) {}
}

/**
 * The requests awaiting their reply, by correlation id, bounded (`rpc.maxOutstanding`), each with
 * its deadline. A request awaited by its caller holds the process open (a broker down leaves only
 * unref'ed timers pending), as a queued publish does; the deadline timer itself is unref'ed, so a
 * settled request holds nothing.
 */
export class RpcCorrelationMap<P extends PendingRequest = PendingRequest> {
  private readonly pending = new Map<string, P>();

  constructor(
    readonly max: number,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  get full(): boolean {
    return this.pending.size >= this.max;
  }

  /**
   * Adds `request` with its deadline: at `timeoutMs` it is taken out and handed to `onTimeout`.
   * The caller checks `full` first; adding beyond `max` is a bug.
   */
  add(request: P, onTimeout: (request: P) => void): void {
    if (this.full) throw new Error(`RpcCorrelationMap: more than ${this.max} requests`);
    if (this.pending.has(request.correlationId)) {
      throw new Error(`RpcCorrelationMap: correlation id ${request.correlationId} in use`);
    }
    if (this.pending.size === 0) holdProcess();
    this.pending.set(request.correlationId, request);
    request.timer = this.clock.setTimeout(() => {
      request.timer = undefined;
      if (this.take(request.correlationId) === request) onTimeout(request);
    }, request.timeoutMs);
    request.timer.unref?.();
  }

  /** Takes the request out (its deadline disarmed); undefined when none awaits `correlationId`. */
  take(correlationId: unknown): P | undefined {
    if (typeof correlationId !== 'string') return undefined;
    const request = this.pending.get(correlationId);
    if (request === undefined) return undefined;
    this.pending.delete(correlationId);
    this.end(request);
    return request;
  }

  /** Takes out every request that `match` selects (all by default). */
  takeAll(match: (request: P) => boolean = () => true): P[] {
    const taken: P[] = [];
    for (const [id, request] of this.pending) {
      if (!match(request)) continue;
      this.pending.delete(id);
      this.end(request);
      taken.push(request);
    }
    return taken;
  }

  private end(request: P): void {
    request.done = true;
    if (request.timer !== undefined) this.clock.clearTimeout(request.timer);
    request.timer = undefined;
    if (this.pending.size === 0) releaseProcess();
  }
}
