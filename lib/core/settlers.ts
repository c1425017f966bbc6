/** Where a pending promise's settle functions are kept by the object that will settle it. */
export interface Settlers<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

// One shared executor instead of a closure per promise: an executor runs synchronously inside
// `new Promise`, so the settle functions can be picked up right after it returns.
let capturedResolve: ((value: never) => void) | undefined;
let capturedReject: ((reason: unknown) => void) | undefined;
function capture(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * A new pending promise whose `resolve`/`reject` are stored on `holder`. For hot paths that
 * create one promise per call (an acquire that waits, a publish): it allocates no executor
 * closure, which `new Promise((resolve, reject) => ...)` does every time.
 */
export function pendingPromise<T>(holder: Settlers<T>): Promise<T> {
  const promise = new Promise<T>(capture);
  holder.resolve = capturedResolve as (value: T) => void;
  holder.reject = capturedReject as (reason: unknown) => void;
  capturedResolve = capturedReject = undefined;
  return promise;
}
