/**
 * Keeps the Node process alive while an awaited operation is pending.
 *
 * The library's timers are unref'ed so that an idle pool never holds a process open. But an
 * operation somebody awaits (a pool's start, an acquire in the wait queue, a drain, a health ping,
 * a consumer joining its group) may have nothing pending except such timers, say while it backs
 * off between connect attempts to a broker that refused the connection: Node then sees an empty
 * event loop and exits — with code 0 in a CommonJS `bootstrap()` and 13 ("unsettled top-level
 * await") in an ES module — before the operation can fail with its error.
 *
 * One interval, created once, is ref'ed while anything holds the process and unref'ed when the
 * last holder lets go: holding is a counter and, on 0 ↔ 1, a flag flip on that timer — cheap
 * enough for the pool's wait queue.
 */

/** Longest delay Node accepts for a timer; the interval only needs to exist, never to fire. */
const IDLE_INTERVAL_MS = 2 ** 31 - 1;

let holders = 0;
let keeper: { ref?(): unknown; unref?(): unknown } | undefined;

/** Holds the process open until a matching `releaseProcess()`. */
export function holdProcess(): void {
  if (holders++ !== 0) return;
  if (keeper === undefined) keeper = setInterval(noop, IDLE_INTERVAL_MS);
  else keeper.ref?.();
}

/** Lets go of one `holdProcess()`. */
export function releaseProcess(): void {
  if (holders === 0) return;
  if (--holders === 0) keeper?.unref?.();
}

/** Holds the process open until the returned function is called (idempotent). */
export function holdProcessOpen(): () => void {
  holdProcess();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    releaseProcess();
  };
}

/** `work`, with the process held open until it settles. For awaited operations off the hot path. */
export function keepAliveUntilSettled<T>(work: Promise<T>): Promise<T> {
  return work.finally(holdProcessOpen());
}

/** How many holders keep the process open now (for tests). */
export function processHolders(): number {
  return holders;
}

function noop(): void {}
