import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable, type Observer, type Subscriber } from 'rxjs';
import { poolRegistry } from './pool-registry.js';
import { RequestChannels } from './request-channels.js';

/**
 * One channel lease per request and pool, taken lazily on first use (`@CurrentChannel()` →
 * `ChannelHandle.get()`, or `pool.withChannel()`/`@WithChannel()` inside the request), and always
 * ended: released when the handler's observable completes or errors; closed and destroyed when
 * the request ends while the handler may still run — the client disconnects before the response
 * was sent (the handler's resulting error is then dropped: there is no client left to answer), or
 * an outer interceptor unsubscribes early (e.g. `timeout()`).
 *
 * The AsyncLocalStorage scopes are entered BEFORE `next.handle()` is called and subscribed: Nest
 * binds the handler to the async context current at `handle()` time, so the handler, its pipes
 * and `@CurrentChannel()` all run inside them. No constructor dependencies: usable with
 * `@UseInterceptors(ChannelInterceptor)` in any module, or as an `APP_INTERCEPTOR`.
 *
 * Prefer it to a `Scope.REQUEST` provider, which re-creates that provider and everything that
 * depends on it (controllers included) on every request; bench/http.bench.ts measures both.
 */
@Injectable()
export class ChannelInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return new Observable<unknown>((subscriber) => {
      const channels = new RequestChannels(poolRegistry.rabbitPools());
      if (context.getType() === 'http') channels.watch(context.switchToHttp().getResponse());
      const observer = new RequestObserver(subscriber, channels);
      const subscription = channels.run(() => next.handle().subscribe(observer));
      // Teardown runs on complete, on error and on unsubscribe alike. Unsubscribed before the
      // handler settled (an outer timeout() or takeUntil), the handler may still be using its
      // channel: it must not go back to the pool for someone else.
      return () => {
        subscription.unsubscribe();
        if (observer.settled) channels.end();
        else channels.abandon('the response was cancelled before its handler finished');
      };
    });
  }
}

/** Forwards the handler's events (one object per request, no closures). */
class RequestObserver implements Observer<unknown> {
  /** The handler's observable completed or failed (as opposed to being unsubscribed early). */
  settled = false;

  constructor(
    private readonly subscriber: Subscriber<unknown>,
    private readonly channels: RequestChannels,
  ) {}

  next(value: unknown): void {
    this.subscriber.next(value);
  }

  error(error: unknown): void {
    this.settled = true;
    if (!this.channels.aborted) return this.subscriber.error(error);
    // After a client disconnect the handler typically fails on its closed channel: nobody is left
    // to answer. An empty result would be an EmptyError in Nest's router, so emit undefined.
    this.subscriber.next(undefined);
    this.subscriber.complete();
  }

  complete(): void {
    this.settled = true;
    this.subscriber.complete();
  }
}
