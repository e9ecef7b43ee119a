// The growable byte buffer behind FrameDecoder and the socket's reader. Pure:
// no I/O, and it knows bytes, not codecs. Bytes are appended at the tail
// (copied in, read straight into `reserve()`d space, or borrowed from a chunk
// without a copy) and consumed from the head as views.
//
// Views handed out (`take`, `consumeTo`, `peek` of a borrowed chunk) are never
// overwritten: once a view has been lent, the buffer is never compacted or
// reused in place; it moves to a fresh allocation instead. Growth is geometric
// and compaction happens only when at most half the buffer is live, so the
// cost stays linear in the bytes.
//
// Fresh allocations are at least `minCapacity`, which a socket adapts to its
// traffic (1 KiB to 256 KiB): large enough that a read rarely straddles the
// end (a straddling frame's head is copied). Memory lent out to its last byte
// is followed by a larger allocation (up to 16 KiB), so a connection of small
// frames allocates less often while an idle one stays small. A buffer that
// grew for one large frame shrinks back once that frame is handed out.

import { EMPTY, KiB, MiB } from "./sizes.ts";

/**
 * Most room reserved ahead for a frame whose bytes have not arrived: a header
 * alone must not allocate what it announces (16 MiB by default).
 */
export const PREALLOCATE_MAX: number = MiB;

/** The most a buffer grows by being lent out (see #makeRoom). */
const LENT_GROWTH_MAX = 16 * KiB;

/**
 * A growable buffer of received bytes: appended at the tail, consumed from
 * the head as views that are never overwritten.
 */
export class ReadBuffer {
  /** The smallest allocation made; may change between calls. */
  minCapacity: number;
  #bytes: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  /** Whether a view into `#bytes` has been handed out (or it is borrowed). */
  #lent = false;
  /** While a caller's chunk is borrowed: the buffer's own memory, kept for after. */
  #own: { bytes: Uint8Array; end: number; lent: boolean } | undefined;
  /** `#bytes.subarray(0, #end)`, cached: decoders read it once per frame. */
  #view: Uint8Array | undefined;

  /** @param minCapacity The smallest allocation made. */
  constructor(minCapacity = 16 * KiB) {
    this.minCapacity = minCapacity;
  }

  /** Bytes buffered and not yet consumed. */
  get length(): number {
    return this.#end - this.#start;
  }

  /**
   * The buffered bytes and what precedes them: the unconsumed ones are
   * `bytes[start..]`. Valid until the next call that adds bytes.
   */
  get bytes(): Uint8Array {
    return this.#view ??= this.#bytes.subarray(0, this.#end);
  }

  /** Where the unconsumed bytes begin in `bytes`. */
  get start(): number {
    return this.#start;
  }

  /** A view of the unconsumed bytes, valid until the next call that adds bytes. */
  peek(): Uint8Array {
    return this.#bytes.subarray(this.#start, this.#end);
  }

  /**
   * Consumes `bytes[start..next)`: a decoder returned a view of them. With
   * `lend` false the view is borrowed (valid until the next read into the
   * buffer), so the memory under it may be reused.
   */
  consumeTo(next: number, lend = true): void {
    this.#start = next;
    if (lend) this.#lent = true;
  }

  /** Consumes the next `n` buffered bytes (n ≤ length) without lending them: they were copied out. */
  skip(n: number): void {
    this.#start += n;
  }

  /** Consumes and returns the next `n` buffered bytes (n ≤ length), uncopied. */
  take(n: number): Uint8Array {
    const start = this.#start;
    this.#start = start + n;
    this.#lent = true;
    return this.#bytes.subarray(start, start + n);
  }

  /** Copies `chunk` in at the tail. */
  append(chunk: Uint8Array): void {
    this.reserve(chunk.length).set(chunk);
    this.commit(chunk.length);
  }

  /**
   * Makes `chunk` the buffer's content without copying it; only while the
   * buffer is empty. Call `unborrow()` before the caller may reuse `chunk`.
   */
  borrow(chunk: Uint8Array): void {
    this.#own = { bytes: this.#bytes, end: this.#end, lent: this.#lent };
    this.#bytes = chunk;
    this.#start = 0;
    this.#end = chunk.length;
    this.#lent = true;
    this.#view = chunk;
  }

  /**
   * Copies what is left of a borrowed chunk into the buffer's own memory,
   * after whatever views of it were lent (it is reused, not reallocated).
   */
  unborrow(): void {
    const own = this.#own;
    if (own === undefined) return;
    this.#own = undefined;
    const rest = this.peek();
    this.#bytes = own.bytes;
    this.#start = this.#end = own.end;
    this.#lent = own.lent;
    this.#view = undefined;
    if (rest.length > 0) this.append(rest);
  }

  /** Room for a frame of `total` bytes, of which `length` are here; capped. */
  expect(total: number): void {
    const missing = total - this.length;
    if (missing > 0) this.reserve(Math.min(missing, PREALLOCATE_MAX));
  }

  /** Free space of at least `min` bytes at the tail, to read into; then `commit`. */
  reserve(min: number): Uint8Array {
    // Not kept while the read waits: an idle connection holds less.
    this.#view = undefined;
    // Empty and lent to nobody: start again at the front of the same memory.
    if (
      this.#start === this.#end && this.#end !== 0 && !this.#lent &&
      this.#own === undefined
    ) {
      this.#start = this.#end = 0;
      this.#view = undefined;
    }
    if (this.#bytes.length - this.#end < min || this.#own !== undefined) {
      this.#makeRoom(min);
    }
    return this.#bytes.subarray(this.#end);
  }

  /** Marks `n` bytes written into the last `reserve()`d space as buffered. */
  commit(n: number): void {
    this.#end += n;
    this.#view = undefined;
  }

  #makeRoom(min: number): void {
    const live = this.#end - this.#start;
    // A borrowed chunk is the caller's: never written into.
    const capacity = this.#own === undefined ? this.#bytes.length : 0;
    if (live === 0 && !this.#lent && capacity >= min) {
      this.#start = this.#end = 0;
      return;
    }
    const fitsHalf = live + min <= capacity && live <= capacity / 2;
    if (fitsHalf && !this.#lent) {
      this.#bytes.copyWithin(0, this.#start, this.#end);
    } else {
      // Memory lent out to the last byte: the traffic needs more than it
      // had, so the next allocation is larger (a connection of small frames
      // allocates less often; an idle one never gets here).
      const grown = this.#lent ? Math.min(capacity * 2, LENT_GROWTH_MAX) : 0;
      const size = fitsHalf
        ? Math.max(live + min, this.minCapacity, grown)
        : Math.max(live + min, capacity * 2, this.minCapacity);
      const fresh = new Uint8Array(size);
      fresh.set(this.#bytes.subarray(this.#start, this.#end));
      this.#bytes = fresh;
      this.#lent = false;
      this.#own = undefined;
    }
    this.#start = 0;
    this.#end = live;
    this.#view = undefined;
  }
}
