// Write buffers shared by every socket of the process. A writer with nothing
// to send gives its buffers back here and takes one again with its next
// frame: an idle connection holds no write buffer (5,000 idle served
// connections would otherwise keep 5,000 of them, bench:net idle), while a
// busy one reuses the same cache-warm memory reply after reply.
//
// Buffers are powers of two, kept per size, and the pool keeps at most
// `maxBytes` in all: what is given back beyond that is left to the garbage
// collector.

/** Buffers of power-of-two sizes, shared and bounded in total. */
export class BufferPool {
  readonly #maxBytes: number;
  /** `#bySize[k]`: free buffers of 2^k bytes. */
  readonly #bySize: Uint8Array[][] = [];
  #bytes = 0;

  /** @param maxBytes The most bytes kept in all. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A kept buffer of exactly `size` bytes (a power of two), if there is one. */
  take(size: number): Uint8Array | undefined {
    const buffer = this.#bySize[Math.log2(size)]?.pop();
    if (buffer !== undefined) this.#bytes -= size;
    return buffer;
  }

  /**
   * Keeps `buffer` for the next `take` of its size, if there is room and its
   * size is a power of two. The caller must hold no view of it any more.
   */
  give(buffer: Uint8Array): void {
    const size = buffer.length;
    const k = Math.log2(size);
    if (!Number.isInteger(k) || this.#bytes + size > this.#maxBytes) return;
    (this.#bySize[k] ??= []).push(buffer);
    this.#bytes += size;
  }
}
