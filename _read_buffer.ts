// The one growable byte buffer behind FrameDecoder and TcpSocket's reader.
// Pure: no I/O. Bytes are appended at the tail (copied in, or read straight
// into `reserve()`d space) and consumed from the head as views.
//
// Views handed out (`take`, `decode`) are never overwritten: once a view has
// been lent, the buffer is never compacted or reused in place; it moves to a
// fresh allocation instead. Growth is geometric and compaction happens only
// when at most half the buffer is live, so the cost stays linear in the bytes.
//
// Fresh allocations are at least `minCapacity`, which a socket adapts to its
// traffic (16 KiB to 64 KiB): large enough that a read rarely straddles the
// end (a straddling frame's head is copied). A buffer that grew for one large
// frame shrinks back once that frame is handed out.

import type { DecodeState, Framing } from "./framing.ts";

/** A growable buffer of received bytes; see the file comment. */
export class ReadBuffer {
  /** The smallest allocation made; may change between calls. */
  minCapacity: number;
  #bytes: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** Whether a view into `#bytes` has been handed out. */
  #lent = false;
  /** `#bytes.subarray(0, #end)`, cached: decode() runs once per frame. */
  #view: Uint8Array | undefined;

  /** @param minCapacity The smallest allocation made. */
  constructor(minCapacity = 16 * 1024) {
    this.minCapacity = minCapacity;
  }

  /** Bytes buffered and not yet consumed. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** A view of the buffered bytes, valid until the next call that mutates. */
  peek(): Uint8Array {
    return this.#bytes.subarray(this.#start, this.#end);
  }

  /** Copies `chunk` in at the tail. */
  append(chunk: Uint8Array): void {
    this.reserve(chunk.length).set(chunk);
    this.commit(chunk.length);
  }

  /** Free space of at least `min` bytes at the tail, to read into; then `commit`. */
  reserve(min: number): Uint8Array {
    const bytes = this.#bytes;
    if (bytes.length - this.#end < min) this.#makeRoom(min);
    return this.#bytes.subarray(this.#end);
  }

  /** Marks `n` bytes written into the last `reserve()`d space as buffered. */
  commit(n: number): void {
    this.#end += n;
    this.#view = undefined;
  }

  /** Consumes and returns the next `n` buffered bytes (n ≤ length), uncopied. */
  take(n: number): Uint8Array {
    const start = this.#start;
    this.#start = start + n;
    this.#lent = true;
    return this.#bytes.subarray(start, start + n);
  }

  /**
   * Decodes one value at the head with `framing`; consumes its bytes.
   * `undefined` when more bytes are needed. `state` carries the framing's
   * progress between calls, so a frame arriving in pieces is not rescanned.
   */
  decode<T>(framing: Framing<T>, state: DecodeState): T | undefined {
    const available = this.#end - this.#start;
    if (available === 0 || available < state.need) return undefined;
    const view = this.#view ??= this.#bytes.subarray(0, this.#end);
    const result = framing.decode(view, this.#start, state);
    if (result === null) return undefined;
    this.#start = result.next;
    this.#lent = true;
    state.need = 0;
    state.scanned = 0;
    return result.value;
  }

  /**
   * Decodes every complete value at the head into `out` with the framing's
   * `decodeMany` (or `decode`, until it needs more bytes or throws); consumes
   * their bytes. An error is left for the next `decode` to report.
   */
  decodeMany<T>(framing: Framing<T>, state: DecodeState, out: T[]): void {
    if (state.need !== 0 || state.scanned !== 0) return;
    if (framing.decodeMany === undefined) {
      try {
        for (;;) {
          const value = this.decode(framing, state);
          if (value === undefined) return;
          out.push(value);
        }
      } catch {
        return;
      }
    }
    const view = this.#view ??= this.#bytes.subarray(0, this.#end);
    const next = framing.decodeMany(view, this.#start, out);
    if (next !== this.#start) {
      this.#start = next;
      this.#lent = true;
    }
  }

  #makeRoom(min: number): void {
    const live = this.#end - this.#start;
    const capacity = this.#bytes.length;
    if (live === 0 && !this.#lent && capacity >= min) {
      this.#start = this.#end = 0;
      return;
    }
    const fitsHalf = live + min <= capacity && live <= capacity / 2;
    if (fitsHalf && !this.#lent) {
      this.#bytes.copyWithin(0, this.#start, this.#end);
    } else {
      const size = fitsHalf
        ? Math.max(live + min, this.minCapacity)
        : Math.max(live + min, capacity * 2, this.minCapacity);
      const fresh = new Uint8Array(size);
      fresh.set(this.#bytes.subarray(this.#start, this.#end));
      this.#bytes = fresh;
      this.#lent = false;
    }
    this.#start = 0;
    this.#end = live;
    this.#view = undefined;
  }
}
