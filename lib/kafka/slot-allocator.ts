/**
 * Hands out the lowest free slot number. Transactional ids are `<prefix>-<slot>`: with a pool of
 * max N the ids stay within `<prefix>-0 … <prefix>-(N-1)`, so after a restart the same ids are
 * initialized again and the broker fences (and aborts the open transactions of) the previous instance.
 *
 * Invariant: a slot is held by at most one live producer; it is freed when that producer is
 * destroyed (or its creation fails).
 */
export class SlotAllocator {
  private readonly used = new Set<number>();

  /** The lowest slot not in use. */
  take(): number {
    let slot = 0;
    while (this.used.has(slot)) slot++;
    this.used.add(slot);
    return slot;
  }

  free(slot: number): void {
    this.used.delete(slot);
  }

  get size(): number {
    return this.used.size;
  }
}
