/**
 * The one logging interface of the library. The core and the adapters write only through it;
 * the Nest layer plugs Nest's `Logger` in. Messages never carry credentials: callers pass
 * URLs through `redactUrl()` first.
 */
export interface MqLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => undefined;

/** Null object: used when no logger is given, so no call site needs an `if`. */
export const NOOP_LOGGER: MqLogger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/**
 * Level for the `failures`-th consecutive failure of a retried step (1-based): `warn` on the first
 * and every 10th, `debug` otherwise, so a long outage stays visible without one warning per
 * backoff step (health and metrics carry the state in between).
 */
export function retryLogLevel(failures: number): 'warn' | 'debug' {
  return failures === 1 || failures % 10 === 0 ? 'warn' : 'debug';
}

/**
 * Level for the `failures`-th consecutive refusal that no retry can fix (credentials, vhost, TLS):
 * as `retryLogLevel`, but `error` where that says `warn` — an operator must act.
 */
export function refusalLogLevel(failures: number): 'error' | 'debug' {
  return retryLogLevel(failures) === 'warn' ? 'error' : 'debug';
}
