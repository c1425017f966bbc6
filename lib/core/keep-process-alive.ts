/**
 * Keeps the Node process alive while an awaited operation is pending.
 *
 * The library's timers are unref'ed so that an idle pool never holds a process open. But an
 * operation somebody awaits (a pool's start, a drain, a health ping, a consumer joining its group)
 * may have nothing pending except such timers, say while it backs off between connect attempts to
 * a broker that refused the connection: Node then sees an empty event loop and exits — with code
 * 0 in a CommonJS `bootstrap()` and 13 ("unsettled top-level await") in an ES module — before the
 * operation can fail with its error. One ref'ed interval, shared by every holder, prevents that.
 */

/** Longest delay Node accepts for a timer; the interval only needs to exist, never to fire. */
const IDLE_INTERVAL_MS = 2 ** 31 - 1;

let holders = 0;
let handle: ReturnType<typeof setInterval> | undefined;

/** Holds the process open until the returned function is called (idempotent). */
export function holdProcessOpen(): () => void {
  if (holders++ === 0) handle = setInterval(noop, IDLE_INTERVAL_MS);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) {
      clearInterval(handle);
      handle = undefined;
    }
  };
}

/** `work`, with the process held open until it settles. For awaited operations off the hot path. */
export function keepAliveUntilSettled<T>(work: Promise<T>): Promise<T> {
  const release = holdProcessOpen();
  return work.finally(release);
}

/** How many holders keep the process open now (for tests). */
export function processHolders(): number {
  return holders;
}

function noop(): void {}
