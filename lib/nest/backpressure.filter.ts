import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Injectable,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { AcquireTimeoutError } from '../core/errors/acquire-timeout.error.js';
import { PoolClosedError } from '../core/errors/pool-closed.error.js';
import { PoolExhaustedError } from '../core/errors/pool-exhausted.error.js';

type BackpressureError = PoolExhaustedError | AcquireTimeoutError | PoolClosedError;

/**
 * Registered app-wide by `MqPoolModule` (opt out with `httpBackpressure: false`): a back-pressure
 * error escaping an HTTP handler is the client's cue to retry later, so it becomes
 * `503 Service Unavailable` with `Retry-After`, not a 500. Other errors never reach this filter
 * (`@Catch` lists only these three), so the app's own filters keep handling them.
 *
 * Body: `{ statusCode: 503, error: 'Service Unavailable', code, message }` — the error's `code`,
 * not its message (which carries internal pool stats). On a closing pool it also sends
 * `Connection: close`, so keep-alive clients reconnect to another instance.
 * Outside HTTP (microservices, websockets) the error is passed on unchanged.
 */
@Catch(PoolExhaustedError, AcquireTimeoutError, PoolClosedError)
@Injectable()
export class MqBackpressureFilter implements ExceptionFilter<BackpressureError> {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(
    exception: BackpressureError,
    host: ArgumentsHost,
  ): void | Observable<never> | BackpressureError {
    const adapter = this.adapterHost.httpAdapter;
    if (host.getType() !== 'http' || !adapter) {
      return host.getType() === 'rpc' ? throwError(() => exception) : exception;
    }
    const response: unknown = host.switchToHttp().getResponse();
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    adapter.setHeader(response, 'Retry-After', String(retryAfterSeconds(exception)));
    if (exception instanceof PoolClosedError) adapter.setHeader(response, 'Connection', 'close');
    adapter.reply(
      response,
      {
        statusCode: 503,
        error: 'Service Unavailable',
        code: exception.code,
        message: describe(exception),
      },
      503,
    );
  }
}

/** Seconds a client should wait: the pool's own hint when it has one, else 1 s. */
export function retryAfterSeconds(e: BackpressureError): number {
  const hintMs = e instanceof PoolExhaustedError ? e.retryAfterMs : undefined;
  return hintMs === undefined ? 1 : Math.max(1, Math.ceil(hintMs / 1000));
}

function describe(e: BackpressureError): string {
  if (e instanceof PoolClosedError)
    return 'The service is shutting down; retry on another instance.';
  return 'The message broker connection pool is saturated; retry later.';
}
