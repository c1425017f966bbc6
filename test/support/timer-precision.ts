/**
 * How early a deadline may end by the caller's clock (ms). Node starts a timer from the event
 * loop's time at the start of the current iteration, so a wait begun late in a long synchronous
 * run ends that much early (seen on a loaded CI machine: 5.3 ms for a 1 s wait). Lateness is what
 * the reliability tests bound tightly; earliness only this much.
 */
export const EARLY_TIMER_TOLERANCE_MS = 20;
