// The buffered writer behind StreamSocket: frames are copied (or encoded) into an
// open buffer and resolve at once; one write to the runtime is in flight at a
// time, and whatever gathers meanwhile leaves together in the next write. So
// `for (...) await sendFrame(x)` batches by itself, costing one runtime op
// per batch instead of one per frame: the op is what costs.
//
// An idle writer writes the first frame at once (a reply leaves without
// delay). A write to a socket with room completes within the same turn, so
// after one the writer holds a partial batch back until a buffer fills, a
// `flush`, or the event loop's next turn (`setImmediate`, a few µs): the
// caller is then awaiting something else. A sending loop so writes 1 KiB,
// then 2, ... 64 KiB at a time instead of every second frame.
//
// The runtime may take part of a write (TLS takes at most 64 KiB). A small
// remainder of our own buffer is then copied in front of the next bytes and
// leaves with them, instead of in a write (and a TLS record) of its own.
//
// Bytes leave in the order they were accepted. Bytes the caller still owns
// (large buffers, large frames of framings a user wrote) are queued
// uncopied and their promise resolves once they are written.
//
// Memory: open buffers start at 1 KiB and double, up to 64 KiB, while frames
// fill them faster than they are written; written buffers are reused, and an
// idle writer gives them back to a pool that every socket shares
// (bytes/buffer_pool.ts), so an idle connection holds none.

import {
  type Codec,
  codecOf,
  encodeChecked,
  type Framing,
} from "../framing/types.ts";
import type { SocketError } from "../errors.ts";
import { setImmediate } from "node:timers";
import { toSocketError } from "./runtime_errors.ts";
import { EMPTY, KiB, MiB } from "../bytes/sizes.ts";
import { BufferPool } from "../bytes/buffer_pool.ts";

/** Where bytes go: `Deno.Conn` in practice. */
export interface Sink {
  write(bytes: Uint8Array): Promise<number>;
}

const MIN_OPEN_CAPACITY = KiB;
/** Writes of 64 KiB cost next to nothing per byte; larger open buffers gain nothing. */
const MAX_OPEN_CAPACITY = 64 * KiB;
/**
 * Frames up to this size are encoded into (reused, cache-warm) open buffers;
 * larger ones into an array of their own.
 */
const COPY_LIMIT = 256 * KiB;

/**
 * The most handed to the runtime in one write: a large buffer still makes
 * progress visible (for idle timeouts) while a slow peer reads it.
 */
const MAX_WRITE = 256 * KiB;

/**
 * A write the sink took only part of leaves a remainder; one this small goes
 * out with the next bytes instead of on its own. TLS takes at most 64 KiB a
 * write, so each 64 KiB frame (65,540 bytes with its header) would otherwise
 * cost a second write and a TLS record of 4 bytes.
 */
const CARRY_MAX = KiB;
/**
 * Open buffers this large (taken for frames over 64 KiB) keep CARRY_MAX bytes
 * free at their front, where a remainder goes ahead of their bytes.
 */
const CARRY_BUFFER = 128 * KiB;

/** Write buffers of idle writers, for the next writer that needs one. */
const pool = new BufferPool(MiB);

/** What writes return when the bytes were accepted without waiting. */
export const RESOLVED: Promise<void> = Promise.resolve();

interface Segment {
  bytes: Uint8Array;
  /** The whole open buffer this segment was cut from, to reuse once written. */
  reuse?: Uint8Array;
  /** Settled once the segment is written (for bytes the caller still owns). */
  written?: PromiseWithResolvers<void>;
}

interface FlushWaiter {
  /** Resolve once this many bytes (counted since the start) are written. */
  target: number;
  resolvers: PromiseWithResolvers<void>;
}

/**
 * Buffers what a socket sends and writes it to the sink one write at a
 * time, gathering what arrives meanwhile into the next write.
 */
export class BufferedWriter {
  readonly #sink: Sink;
  readonly #highWaterMark: number;
  readonly #onProgress: () => void;
  /** Sealed segments, in order, before the open buffer. */
  #queue: Segment[] = [];
  #open: Uint8Array | undefined;
  /** The open buffer's bytes: `#open[#openStart, #openLength)`. */
  #openStart = 0;
  #openLength = 0;
  #openCapacity = MIN_OPEN_CAPACITY;
  /** Written buffers kept for reuse: up to `#highWaterMark` bytes, or one. */
  #free: Uint8Array[] = [];
  #freeBytes = 0;
  /** Bytes accepted and not yet handed to the sink. */
  #queued = 0;
  /** Bytes accepted and written since the start: what `flush` compares. */
  #acceptedTotal = 0;
  #writtenTotal = 0;
  #writing = false;
  #error: SocketError | undefined;
  #drained: PromiseWithResolvers<void> | undefined;
  #flushWaiters: FlushWaiter[] = [];

  /**
   * @param sink Where the bytes go.
   * @param highWaterMark Bytes queued before writes wait for room.
   * @param onProgress Called after each completed write to the sink.
   */
  constructor(sink: Sink, highWaterMark: number, onProgress: () => void) {
    this.#sink = sink;
    this.#highWaterMark = highWaterMark;
    this.#onProgress = onProgress;
  }

  /** Whether a write to the sink is in flight. */
  get writing(): boolean {
    return this.#writing;
  }

  /**
   * Queues `bytes`. Small ones are copied and the promise resolves at once
   * below the high-water mark; ones at or over it go uncopied and resolve once
   * written, so the caller may reuse them afterwards.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (bytes.length >= this.#highWaterMark) return this.#enqueueOwned(bytes);
    this.#claim(bytes.length).set(bytes, this.#openLength - bytes.length);
    return this.#accepted();
  }

  /** Queues the frame of `value`, encoding it straight into the buffer where the framing allows. */
  writeFrame<T>(value: T, framing: Framing<T>): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    let written: Promise<void> | undefined;
    try {
      written = this.#append(value, framing);
    } catch (error) {
      return Promise.reject(error);
    }
    return written ?? this.#accepted();
  }

  /** Queues the frames of `values` with one wait for room at the end. */
  writeFrames<T>(values: Iterable<T>, framing: Framing<T>): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    // Segments are written in order: the last owned one settles after the rest.
    let lastWritten: Promise<void> | undefined;
    try {
      const codec = codecOf(framing);
      if (codec?.writeMany !== undefined && Array.isArray(values)) {
        lastWritten = this.#appendMany(values as readonly T[], framing, codec);
      } else {
        for (const value of values) {
          lastWritten = this.#append(value, framing) ?? lastWritten;
        }
      }
    } catch (error) {
      this.#kick();
      return Promise.reject(error);
    }
    const accepted = this.#accepted();
    return lastWritten
      ? Promise.all([lastWritten, accepted]).then(() => {})
      : accepted;
  }

  /** Resolves when every byte accepted before this call has been written. */
  flush(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#writtenTotal >= this.#acceptedTotal) return RESOLVED;
    const resolvers = Promise.withResolvers<void>();
    this.#flushWaiters.push({ target: this.#acceptedTotal, resolvers });
    this.#endGather();
    return resolvers.promise;
  }

  /**
   * Rejects every caller waiting for room or for a flush with `reason()`, and
   * keeps writing what was accepted: what `close()` does before its last
   * flush. A caller whose uncopied bytes are still being written is told
   * when they are (or when writing fails).
   */
  abandonWaiters(reason: () => SocketError): void {
    if (this.#flushWaiters.length === 0 && this.#drained === undefined) return;
    const error = reason();
    for (const waiter of this.#flushWaiters) waiter.resolvers.reject(error);
    this.#flushWaiters = [];
    this.#drained?.reject(error);
    this.#drained = undefined;
  }

  /** Stops writing for good: later calls and waiters get `error`. */
  fail(error: SocketError): void {
    if (this.#error) return;
    this.#error = error;
    this.#gathering = false;
    for (const segment of this.#queue) segment.written?.reject(error);
    for (const waiter of this.#flushWaiters) waiter.resolvers.reject(error);
    this.#drained?.reject(error);
    this.#queue = [];
    this.#flushWaiters = [];
    this.#drained = undefined;
    this.#open = undefined;
    this.#free = [];
    this.#freeBytes = 0;
    this.#openStart = this.#openLength = this.#queued = 0;
  }

  /** Appends one frame; returns a promise when the bytes stay the caller's until written. */
  #append<T>(value: T, framing: Framing<T>): Promise<void> | undefined {
    const codec = codecOf(framing);
    if (codec !== undefined) {
      const length = codec.measure(value);
      if (length <= COPY_LIMIT) {
        codec.write(value, this.#claim(length), this.#openLength - length);
      } else {
        const bytes = new Uint8Array(length);
        codec.write(value, bytes, 0);
        this.#enqueue({ bytes });
      }
      return undefined;
    }
    // An opaque framing: encode() may return memory the caller still holds
    // (`encode: (v) => v`), so large results are not kept past their write.
    const bytes = encodeChecked(framing, value);
    if (bytes.length > COPY_LIMIT) return this.#enqueueOwned(bytes);
    this.#claim(bytes.length).set(bytes, this.#openLength - bytes.length);
    return undefined;
  }

  /**
   * Appends the frames of `values` with the codec's `writeMany`, one call
   * per write buffer (~8 % less CPU than two calls per frame for 32-byte frames).
   * A frame that does not fit, or that the codec rejects, goes through
   * `#append`, which claims a new buffer or throws.
   */
  #appendMany<T>(
    values: readonly T[],
    framing: Framing<T>,
    codec: Codec<T>,
  ): Promise<void> | undefined {
    let lastWritten: Promise<void> | undefined;
    for (let i = 0; i < values.length;) {
      const open = this.#open;
      if (open !== undefined && codec.writeMany !== undefined) {
        const start = this.#openLength;
        const { next, end } = codec.writeMany(values, i, open, start);
        this.#count(end - start);
        if (next > i) {
          i = next;
          continue;
        }
      }
      lastWritten = this.#append(values[i], framing) ?? lastWritten;
      i++;
    }
    return lastWritten;
  }

  /** Makes room for `n` bytes at the end of the open buffer, and counts them in. */
  #claim(n: number): Uint8Array {
    let open = this.#open;
    if (open === undefined || open.length - this.#openLength < n) {
      if (this.#openLength > this.#openStart) {
        // Frames gathered faster than they left: batch more per write.
        if (this.#openCapacity < MAX_OPEN_CAPACITY) this.#openCapacity *= 2;
        this.#seal();
      }
      // A kept buffer only if it is as large as the batches have grown.
      const size = n <= this.#openCapacity
        ? this.#openCapacity
        : 2 ** Math.ceil(Math.log2(n));
      open = this.#takeFree(Math.max(n, this.#openCapacity)) ??
        pool.take(size) ?? new Uint8Array(size);
      this.#setOpen(open, n);
    }
    this.#count(n);
    return open;
  }

  /**
   * Makes `buffer` the open buffer, empty; a large one keeps a free front for
   * a carried remainder when that still leaves room for `n` bytes.
   */
  #setOpen(buffer: Uint8Array, n: number): void {
    this.#open = buffer;
    this.#openStart =
      this.#openLength =
        buffer.length >= CARRY_BUFFER && buffer.length - n >= CARRY_MAX
          ? CARRY_MAX
          : 0;
  }

  /** Counts in `n` bytes just written at the end of the open buffer. */
  #count(n: number): void {
    this.#openLength += n;
    this.#queued += n;
    this.#acceptedTotal += n;
  }

  /** A written buffer with room for `n` bytes, if one is kept. */
  #takeFree(n: number): Uint8Array | undefined {
    const free = this.#free;
    for (let i = free.length - 1; i >= 0; i--) {
      const buffer = free[i];
      if (buffer.length >= n) {
        free[i] = free[free.length - 1];
        free.pop();
        this.#freeBytes -= buffer.length;
        return buffer;
      }
    }
    return undefined;
  }

  #seal(): void {
    const open = this.#open!;
    this.#queue.push({
      bytes: open.subarray(this.#openStart, this.#openLength),
      reuse: open,
    });
    this.#open = undefined;
    this.#openStart = this.#openLength = 0;
  }

  #enqueue(segment: Segment): void {
    if (this.#openLength > this.#openStart) this.#seal();
    this.#queue.push(segment);
    this.#queued += segment.bytes.length;
    this.#acceptedTotal += segment.bytes.length;
    this.#kick();
  }

  #enqueueOwned(bytes: Uint8Array): Promise<void> {
    const written = Promise.withResolvers<void>();
    this.#enqueue({ bytes, written });
    return written.promise;
  }

  #accepted(): Promise<void> {
    this.#kick();
    if (this.#queued < this.#highWaterMark) return RESOLVED;
    if (this.#error) return Promise.reject(this.#error);
    this.#drained ??= Promise.withResolvers();
    return this.#drained.promise;
  }

  #kick(): void {
    if (this.#gathering) {
      if (this.#queue.length > 0) this.#endGather();
    } else if (
      !this.#writing && this.#error === undefined && this.#queued > 0
    ) {
      this.#writeNext();
    }
  }

  /**
   * Whether a write is held back while the caller adds frames: a write to a
   * socket with room completes at once, and without this a loop of `await
   * sendFrame(x)` meets a ready writer every second frame (thousands of
   * 72-byte writes). The held bytes leave when a buffer fills, on `flush`,
   * or once the caller awaits anything else (the event loop's next turn).
   */
  #gathering = false;

  /** `#endGather` as a callback, made the first time a batch is held. */
  #endGatherLater: (() => void) | undefined;

  #endGather(): void {
    if (!this.#gathering) return;
    this.#gathering = false;
    if (this.#error === undefined) this.#writeNext();
  }

  // The write in flight. The loop is driven by callbacks made once rather
  // than an async function: an echo server runs it once per reply, and a
  // `then` costs less than suspending an async function.
  #bytes: Uint8Array = EMPTY;
  #offset = 0;
  #reuse: Uint8Array | undefined;
  #written: PromiseWithResolvers<void> | undefined;

  /** Takes whatever has gathered (the queue first, then the open buffer) and writes it. */
  #writeNext(): void {
    const segment = this.#queue.shift();
    if (segment !== undefined) {
      this.#bytes = segment.bytes;
      this.#reuse = segment.reuse;
      this.#written = segment.written;
    } else if (this.#openLength > this.#openStart) {
      // No Segment for the open buffer: an echo server batches one frame.
      const open = this.#open!;
      this.#bytes = open.subarray(this.#openStart, this.#openLength);
      this.#reuse = open;
      this.#written = undefined;
      this.#open = undefined;
      this.#openStart = this.#openLength = 0;
    } else {
      // Idle: the buffers go back to the pool.
      this.#writing = false;
      this.#bytes = EMPTY;
      this.#reuse = undefined;
      if (this.#open !== undefined) {
        pool.give(this.#open);
        this.#open = undefined;
        this.#openStart = this.#openLength = 0;
      }
      if (this.#freeBytes > 0) {
        for (const buffer of this.#free) pool.give(buffer);
        this.#free.length = 0;
        this.#freeBytes = 0;
      }
      return;
    }
    this.#writing = true;
    this.#offset = 0;
    this.#queued -= this.#bytes.length;
    if (this.#drained && this.#queued < this.#highWaterMark) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
    this.#writeSome();
  }

  #writeSome(): void {
    const bytes = this.#bytes;
    const offset = this.#offset;
    let write: Promise<number>;
    try {
      write = this.#sink.write(
        offset === 0 && bytes.length <= MAX_WRITE
          ? bytes
          : bytes.subarray(offset, offset + MAX_WRITE),
      );
    } catch (error) {
      return this.#onWriteError(error);
    }
    write.then(this.#onWrite, this.#onWriteError);
  }

  readonly #onWrite = (n: number): void => {
    this.#onProgress();
    this.#offset += n;
    if (this.#offset < this.#bytes.length) {
      if (this.#error === undefined) {
        if (this.#carry()) return this.#writeNext();
        return this.#writeSome();
      }
      // Failed meanwhile (destroyed): the rest of this segment never leaves.
      this.#writing = false;
      this.#written?.reject(this.#error);
      return;
    }
    this.#written?.resolve();
    this.#wrote(this.#bytes.length, this.#reuse);
    if (
      this.#queue.length === 0 && this.#openLength > this.#openStart &&
      this.#flushWaiters.length === 0 && this.#drained === undefined &&
      this.#error === undefined
    ) {
      // Only part of a buffer gathered during that write, and nobody waits
      // for it: let the caller add more.
      this.#gathering = true;
      setImmediate(this.#endGatherLater ??= () => this.#endGather());
      return;
    }
    this.#writeNext();
  };

  /**
   * After a partial write: puts a small remainder of our own buffer in front
   * of the next bytes (the next segment or the open buffer, in their free
   * front), so it leaves in their write. Returns whether it did; the segment
   * then counts as written.
   */
  #carry(): boolean {
    const bytes = this.#bytes;
    const reuse = this.#reuse;
    const rest = bytes.length - this.#offset;
    if (rest > CARRY_MAX || reuse === undefined) return false;
    const next = this.#queue[0];
    let into: Uint8Array;
    let at: number;
    if (next !== undefined) {
      // Only into our own buffer (bytes the caller owns have no free front).
      if (next.reuse === undefined) return false;
      const front = next.bytes.byteOffset - next.reuse.byteOffset;
      if (front < rest) return false;
      into = next.reuse;
      at = front - rest;
      next.bytes = into.subarray(at, front + next.bytes.length);
    } else if (
      this.#open !== undefined && this.#openLength > this.#openStart &&
      this.#openStart >= rest
    ) {
      into = this.#open;
      at = this.#openStart -= rest;
    } else {
      return false;
    }
    into.set(bytes.subarray(this.#offset), at);
    this.#queued += rest;
    this.#wrote(this.#offset, reuse);
    return true;
  }

  readonly #onWriteError = (error: unknown): void => {
    this.#writing = false;
    const failure = this.#error ?? toSocketError(error, "send");
    this.#written?.reject(failure);
    this.fail(failure);
  };

  #wrote(length: number, reuse: Uint8Array | undefined): void {
    this.#writtenTotal += length;
    const waiters = this.#flushWaiters;
    while (waiters.length > 0 && waiters[0].target <= this.#writtenTotal) {
      waiters.shift()!.resolvers.resolve();
    }
    if (reuse === undefined) return;
    if (this.#open === undefined && reuse.length >= this.#openCapacity) {
      // Nothing gathered meanwhile: the next frames go into the same memory
      // (an echo server's every reply).
      this.#setOpen(reuse, 0);
    } else if (
      // One is always kept: with a high-water mark under two buffers, frames
      // would otherwise each take fresh (cold) memory (3x slower for 64 KiB).
      this.#free.length === 0 ||
      this.#freeBytes + reuse.length <= this.#highWaterMark
    ) {
      this.#free.push(reuse);
      this.#freeBytes += reuse.length;
    }
  }
}
