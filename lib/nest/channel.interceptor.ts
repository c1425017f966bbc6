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
 * ended: released when the handler's observable completes or errors, or when Nest unsubscribes;
 * closed and destroyed when the client disconnects before the response was sent (the handler's
 * resulting error is then dropped: there is no client left to answer).
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
      const subscription = channels.run(() =>
        next.handle().subscribe(new RequestObserver(subscriber, channels)),
      );
      // Teardown runs on complete, on error and on unsubscribe alike.
      return () => {
        subscription.unsubscribe();
        channels.end();
      };
    });
  }
}

/** Forwards the handler's events (one object per request, no closures). */
class RequestObserver implements Observer<unknown> {
  constructor(
    private readonly subscriber: Subscriber<unknown>,
    private readonly channels: RequestChannels,
  ) {}

  next(value: unknown): void {
    this.subscriber.next(value);
  }

  error(error: unknown): void {
    if (!this.channels.aborted) return this.subscriber.error(error);
    // After a client disconnect the handler typically fails on its closed channel: nobody is left
    // to answer. An empty result would be an EmptyError in Nest's router, so emit undefined.
    this.subscriber.next(undefined);
    this.subscriber.complete();
  }

  complete(): void {
    this.subscriber.complete();
  }
}
