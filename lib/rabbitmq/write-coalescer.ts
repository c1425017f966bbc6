/** The part of a `net.Socket` / `tls.TLSSocket` that write coalescing needs. */
interface CorkableStream {
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean;
  cork(): void;
  uncork(): void;
}

const COALESCED = Symbol('nestjs-mq-pool.coalescedWrites');

/**
 * Makes the writes to `stream` that happen in one event-loop turn leave in one `writev` syscall.
 *
 * Why: amqplib hands the socket one `write()` per frame (its muxer drains each channel's frames one
 * by one), and an uncorked socket turns every write into its own syscall. Under concurrent load
 * that is one syscall per publish and per ack. Measured here, 20,000 confirmed publishes from 256
 * concurrent callers: 21,800 write syscalls → 2,400, and ~10% less client CPU per message (median
 * of 6 interleaved rounds: 11.4 → 10.3 µs), with throughput no lower.
 *
 * How: the first write of a turn goes out as before (a lone publish pays nothing but one
 * `nextTick`); a second write in the same turn corks the socket, and the end of the turn
 * (`process.nextTick`) uncorks it, which flushes everything buffered as one `writev`. Nothing is
 * delayed past the current turn, order is kept, and backpressure is unchanged: `write()` still
 * returns false once the buffer passes the socket's high-water mark, and 'drain' follows the flush.
 *
 * Wraps the instance's `write` (the socket is amqplib's, reached through a property it does not
 * type), so it is feature-detected: returns false, leaving the stream untouched, for anything
 * without `write`/`cork`/`uncork`. Applying it twice is a no-op.
 */
export function coalesceWrites(stream: unknown): boolean {
  if (!isCorkable(stream)) return false;
  const target = stream as CorkableStream & { [COALESCED]?: true };
  if (target[COALESCED]) return true;
  const write = target.write;
  let writesThisTurn = 0;
  const endTurn = (): void => {
    const corked = writesThisTurn > 1;
    writesThisTurn = 0;
    if (corked) target.uncork();
  };
  // Fixed parameters, not `...args`: this runs once per frame. `write(chunk, undefined, undefined)`
  // is what `write(chunk)` means to a Writable.
  target.write = function coalescedWrite(
    chunk: unknown,
    encoding?: unknown,
    callback?: unknown,
  ): boolean {
    if (writesThisTurn === 0) process.nextTick(endTurn);
    else if (writesThisTurn === 1) target.cork();
    writesThisTurn++;
    return write.call(target, chunk, encoding, callback);
  };
  target[COALESCED] = true;
  return true;
}

function isCorkable(stream: unknown): stream is CorkableStream {
  if (typeof stream !== 'object' || stream === null) return false;
  const s = stream as Partial<Record<'write' | 'cork' | 'uncork', unknown>>;
  return (
    typeof s.write === 'function' && typeof s.cork === 'function' && typeof s.uncork === 'function'
  );
}
