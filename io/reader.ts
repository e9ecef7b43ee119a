// The socket's reads: the mirror of the BufferedWriter. One read to the
// runtime is in flight at a time, into the ReadBuffer; receive calls are
// served strictly in call order, each taking what it wants from the buffer
// (bytes, exactly n bytes, a frame, every buffered frame).
//
// A call whose answer is already buffered and that has nobody ahead of it is
// answered at once, without waiting on anything. Otherwise it joins the queue;
// the call at the head drives the reads. A call that times out or is aborted
// leaves the queue, but the read it started stays in flight and its bytes go
// into the buffer for whoever asks next: nothing is lost. Closing rejects
// every waiting call at once.
//
// A call that must wait but can never give up on its own (no timeout, no
// signal; a frame deadline closes the socket) and has nobody ahead drives its
// reads itself, without a queue entry (the fast call), as a raw read loop
// does: a served connection's every `frames()` step, and a `recvInto`, which
// then reads straight into its target. Calls after it queue behind it.
//
// Reads adapt their size to the traffic (like Netty's adaptive allocator): a
// connection waiting for its next frame reads 1 KiB at a time (what an idle
// served connection keeps, as tokio's and Go's buffers stay small until data
// needs more), a busy one up to 64 KiB, and one that has received a frame over
// 16 KiB up to 256 KiB, so a read holds several of them (a frame straddling two
// allocations is copied). Receives of bytes (`recv(n)`, `recvInto`) read at
// least 16 KiB: a smaller read would split what arrived together, and `recv(n)`
// would return less than was there. A frame is the same however its bytes were
// split. Small frames do better with 64 KiB than with more: every read goes
// into fresh memory, and large allocations cost more than the reads they save.

import { SocketError } from "../errors.ts";
import { PREALLOCATE_MAX, ReadBuffer } from "../bytes/read_buffer.ts";
import { KiB } from "../bytes/sizes.ts";
import { DecodeDriver, incompleteFrame } from "../framing/decoder.ts";
import type { Framing } from "../framing/types.ts";
import { toSocketError } from "./runtime_errors.ts";
import { checkDuration } from "./validate.ts";
import { type CallOptions, WaitQueue } from "./wait_queue.ts";
import { DONE, iterate } from "./iterate.ts";
import {
  ExactBytes,
  IntoBytes,
  MORE,
  OneFrame,
  type ReadState,
  SomeBytes,
  SomeFrames,
  type Want,
} from "./wants.ts";

/** Where bytes come from: `Deno.Conn` in practice. */
export interface Source {
  read(buffer: Uint8Array): Promise<number | null>;
}

const MIN_READ = KiB;
/** The least a receive of bytes reads: see the file comment. */
const MIN_BYTES_READ = 16 * KiB;
const MAX_READ = 64 * KiB;
const MAX_READ_LARGE_FRAMES = 256 * KiB;
const LARGE_FRAME = 16 * KiB;

const same = <T>(value: T): T => value;
const iteratorResult = <T>(value: T): IteratorResult<T> => ({
  value,
  done: false,
});

/**
 * Serves a socket's receive calls in call order from one buffer, with one
 * read to the runtime in flight at a time.
 */
export class Reader implements ReadState {
  /** The bytes received and not yet taken. */
  readonly buffer: ReadBuffer = new ReadBuffer(MIN_BYTES_READ);
  /** Milliseconds a waiting call may wait when it gives no timeout of its own. */
  timeout: number | undefined;
  #frameTimeout: number | undefined;
  readonly #source: Source;
  readonly #onProgress: () => void;
  readonly #onFrameTimeout: (ms: number) => void;
  /** Runs while a frame receive waits for the rest of a frame begun. */
  #frameTimer: ReturnType<typeof setTimeout> | undefined;
  /** Calls waiting, in call order; the head drives the reads. A call that
   * gives up leaves its read in flight for the next one. Made when a call
   * first waits (most connections only ever take the fast path). */
  #calls: WaitQueue<Want<unknown>, unknown> = NO_CALLS;
  #reading = false;
  /** Whether the read in flight is the fast call's. */
  #readingFast = false;
  /** The call whose `target` the read in flight goes into, if it does. */
  #direct: IntoBytes | undefined;
  /**
   * The call that drives its reads without a queue entry (see the file
   * comment), and what it wants. Later calls queue behind it; `close`
   * rejects it first.
   */
  #fastWant: Want<unknown> | undefined;
  // Its promise's functions, not a `withResolvers` object: a served
  // connection waiting for its next frame keeps them (bench:net idle).
  #fastResolve: ((value: unknown) => void) | undefined;
  #fastReject: ((error: unknown) => void) | undefined;
  #readAction = "receive";
  #eof = false;
  #error: SocketError | undefined;
  /** Set by `close`: its error, or the function that makes it when first needed. */
  #closed: SocketError | (() => SocketError) | undefined;
  /** The driver of the framing last decoded with: it keeps a half-read frame's progress. */
  #driver: DecodeDriver<unknown> | undefined;
  #readSize = MIN_READ;
  /** MAX_READ, or MAX_READ_LARGE_FRAMES once a large frame has arrived. */
  #readLimit = MAX_READ;
  #readRoom = 0;

  /**
   * @param source Where bytes come from.
   * @param onProgress Called after each read that returned bytes.
   * @param onFrameTimeout Called when a frame misses `frameTimeout`; it is
   * expected to close the reader.
   */
  constructor(
    source: Source,
    onProgress: () => void,
    onFrameTimeout: (ms: number) => void = () => {},
  ) {
    this.#source = source;
    this.#onProgress = onProgress;
    this.#onFrameTimeout = onFrameTimeout;
  }

  /**
   * Milliseconds a frame may take from its first byte to its last, counted
   * while a frame receive waits for it; `undefined`: no limit.
   *
   * @throws {RangeError} When set to a negative number or NaN.
   */
  get frameTimeout(): number | undefined {
    return this.#frameTimeout;
  }

  set frameTimeout(ms: number | undefined) {
    this.#frameTimeout = checkDuration(ms, "frameTimeout", "set frameTimeout");
  }

  /** Whether a read to the runtime is in flight. */
  get reading(): boolean {
    return this.#reading;
  }

  /** Up to `max` bytes; `null` at the end of the stream. */
  some(max: number, options: CallOptions, action: string) {
    return this.#receive(new SomeBytes(max), options, action);
  }

  /**
   * 1 to `target.length` bytes copied into `target` (buffered ones first);
   * their count, or `null` at the end of the stream. With nothing buffered
   * and no deadline, the read goes straight into `target`.
   */
  into(target: Uint8Array, options: CallOptions, action: string) {
    if (target.length === 0) return Promise.resolve(0);
    const direct = options.signal === undefined &&
      (options.timeout ?? this.timeout) === undefined;
    return this.#receive(new IntoBytes(target, direct), options, action);
  }

  /** Exactly `n` bytes; `EOF` if the stream ends first. */
  exactly(n: number, options: CallOptions, action: string) {
    return this.#receive(new ExactBytes(n), options, action);
  }

  /** One value of `framing`; `null` at a clean end, `endedInside` within a frame. */
  frame<T>(
    framing: Framing<T>,
    options: CallOptions,
    action: string,
    endedInside?: (left: number) => Error,
    lend = true,
  ): Promise<T | null> {
    return this.#receive(
      new OneFrame<T, T | null>(framing, same, null, endedInside, lend),
      options,
      action,
    );
  }

  /** Every buffered value of `framing`, at least one; `null` at a clean end. */
  someFrames<T>(
    framing: Framing<T>,
    options: CallOptions,
    action: string,
  ): Promise<T[] | null> {
    return this.#receive(new SomeFrames(framing), options, action);
  }

  /**
   * The values of `framing` until a clean end of stream. Each step is a
   * receive call like any other, in call order; no async generator: one
   * per frame would cost more than the decode.
   */
  frames<T>(
    framing: Framing<T>,
    action: string,
    lend = true,
  ): AsyncIterableIterator<T> {
    const want = new OneFrame<T, IteratorResult<T>>(
      framing,
      iteratorResult,
      DONE,
      incompleteFrame,
      lend,
    );
    return iterate(() => {
      // A frame already buffered, nobody ahead: `#receive` without its
      // layers (the step a loop over small frames takes nearly every time).
      const driver = this.#driver;
      if (
        this.#calls.length === 0 && this.#fastWant === undefined &&
        driver !== undefined &&
        driver.framing === framing && this.#closed === undefined
      ) {
        try {
          const value = (driver as DecodeDriver<T>).next(this.buffer, lend);
          if (value !== undefined) {
            return Promise.resolve({ value, done: false });
          }
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return this.#receive(want, NO_OPTIONS, action);
    });
  }

  /**
   * The next `size` bytes as a stream, pulled one ordinary read's worth at a
   * time (memory stays bounded); each pull is a receive call like any other.
   * `EOF` through the stream if the stream ends first.
   */
  stream(size: number, action: string): ReadableStream<Uint8Array> {
    let remaining = size;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (remaining === 0) controller.close();
      },
      pull: async (controller) => {
        const chunk = await this.some(
          Math.min(remaining, MAX_READ),
          NO_OPTIONS,
          action,
        );
        if (chunk === null) {
          throw new SocketError(
            "EOF",
            `Cannot receive a body of ${size} bytes: the stream ended after ${
              size - remaining
            }`,
          );
        }
        remaining -= chunk.length;
        controller.enqueue(chunk);
        if (remaining === 0) controller.close();
      },
    });
  }

  /** The driver for `framing`: the current one, or a fresh one. */
  driverFor<T>(framing: Framing<T>): DecodeDriver<T> {
    const driver = this.#driver;
    if (driver !== undefined && driver.framing === framing) {
      return driver as DecodeDriver<T>;
    }
    const fresh = new DecodeDriver(framing);
    this.#driver = fresh as DecodeDriver<unknown>;
    return fresh;
  }

  /** Bytes are being taken otherwise: a half-read frame's progress is void. */
  forgetFrame(): void {
    this.#driver = undefined;
  }

  /** Rejects every waiting and later call with `reason`. Safe to call again. */
  close(reason: SocketError | (() => SocketError)): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#stopFrameClock();
    // The fast call is ahead of every queued one.
    const reject = this.#fastReject;
    this.#fastWant = this.#fastResolve = this.#fastReject = undefined;
    if (reject !== undefined) reject(this.#closedError());
    if (this.#calls.length > 0) this.#calls.close(this.#closedError());
  }

  /** The error calls fail with once closed. */
  #closedError(): SocketError {
    const closed = this.#closed!;
    return typeof closed === "function" ? (this.#closed = closed()) : closed;
  }

  #receive<R>(
    want: Want<R>,
    options: CallOptions,
    action: string,
  ): Promise<R> {
    const first = this.#calls.length === 0 && this.#fastWant === undefined;
    const timeout = options.timeout ?? this.timeout;
    if (first) {
      // Nobody ahead: answer from the buffer if it can.
      try {
        const result = this.#answer(want);
        if (result !== MORE) return Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
      if (
        timeout === undefined && options.signal === undefined &&
        !this.#reading
      ) {
        return this.#receiveFast(want, action) as Promise<R>;
      }
    }
    if (this.#calls === NO_CALLS) {
      this.#calls = new WaitQueue((wasHead) => {
        // The next call may be answerable from what is buffered already.
        if (wasHead && !this.#reading) this.#serve();
      });
    }
    // Queued untyped: each call's own `want` produces what it resolves to.
    const promise = this.#calls.wait(
      want,
      timeout === options.timeout ? options : { ...options, timeout },
      action,
    ) as Promise<R>;
    if (first && this.#calls.head === want) {
      // At the head, and just found to need more: what #serve would do.
      this.#readAction = action;
      this.#startFrameClock(want);
      if (!this.#reading) this.#read(want);
    }
    return promise;
  }

  /** The answer to `want` from what is known now, or MORE. */
  #answer<R>(want: Want<R>): R | typeof MORE {
    if (this.#closed) throw this.#closedError();
    const result = want.take(this);
    if (result !== MORE) return result;
    if (this.#error) throw this.#error;
    if (this.#eof) return want.end(this);
    return MORE;
  }

  /** Serves `want` without a queue entry: it reads until it can answer. */
  #receiveFast(want: Want<unknown>, action: string): Promise<unknown> {
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#fastResolve = resolve;
      this.#fastReject = reject;
    });
    this.#fastWant = want;
    this.#readAction = action;
    this.#startFrameClock(want);
    this.#read(want, true);
    return promise;
  }

  /** After a read for the fast call: answers it, or reads again. */
  #continueFast(): void {
    const want = this.#fastWant;
    // Closed meanwhile: `close` has rejected it.
    if (want === undefined) return;
    let result: unknown;
    try {
      result = this.#answer(want);
    } catch (error) {
      return this.#settleFast(error, true);
    }
    if (result === MORE) {
      this.#startFrameClock(want);
      return this.#read(want, true);
    }
    this.#settleFast(result, false);
  }

  #settleFast(value: unknown, failed: boolean): void {
    const settle = failed ? this.#fastReject : this.#fastResolve;
    this.#fastWant = this.#fastResolve = this.#fastReject = undefined;
    settle?.(value);
    // Bytes were taken: whatever is left starts a new frame's clock.
    this.#stopFrameClock();
    // Settled first: calls queued behind it settle after it.
    if (this.#calls.length > 0) this.#serve();
  }

  /** Answers calls from the head while it can, then reads for the head. */
  #serve(): void {
    const calls = this.#calls;
    let want: Want<unknown> | undefined;
    while ((want = calls.head) !== undefined) {
      let result: unknown;
      try {
        result = this.#answer(want);
      } catch (error) {
        calls.rejectHead(error);
        continue;
      }
      if (result === MORE) {
        this.#startFrameClock(want);
        if (!this.#reading) this.#read(want);
        return;
      }
      calls.resolveHead(result);
      // Bytes were taken: whatever is left starts a new frame's clock.
      this.#stopFrameClock();
    }
    this.#stopFrameClock();
  }

  /**
   * Starts the frame deadline when `want` waits for a frame whose first
   * bytes are here; it keeps running until a receive is answered.
   */
  #startFrameClock(want: Want<unknown>): void {
    const ms = this.frameTimeout;
    if (ms === undefined || want.frame !== true || this.buffer.length === 0) {
      return this.#stopFrameClock();
    }
    if (this.#frameTimer !== undefined) return;
    this.#frameTimer = setTimeout(() => {
      this.#frameTimer = undefined;
      // Still waiting for the same frame (a call that gave up left its
      // place to the next, which waits for the same bytes).
      const waiting = this.#fastWant ?? this.#calls.head;
      if (
        this.#closed === undefined && waiting?.frame === true &&
        this.buffer.length > 0
      ) {
        this.#onFrameTimeout(ms);
      }
    }, ms);
  }

  #stopFrameClock(): void {
    if (this.#frameTimer === undefined) return;
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  /**
   * Starts the one read, for `want` (the fast call's, or the head's), with
   * room for at least `need` bytes in all.
   */
  #read(want: Want<unknown>, fast = false): void {
    this.#reading = true;
    this.#readingFast = fast;
    let read: Promise<number | null>;
    try {
      read = this.#source.read(this.#readTarget(want));
    } catch (error) {
      return this.#onReadError(error);
    }
    read.then(this.#onRead, this.#onReadError);
  }

  /** Where the read for `want` goes: its own memory if it may, else the buffer. */
  #readTarget(want: Want<unknown>): Uint8Array {
    const buffer = this.buffer;
    if (
      want instanceof IntoBytes && want.direct && buffer.length === 0
    ) {
      // Straight into the caller's memory: no copy, nothing allocated.
      this.#direct = want;
      return want.target;
    }
    const need = want.need(this);
    const size = want.frame === true
      ? this.#readSize
      : Math.max(this.#readSize, MIN_BYTES_READ);
    buffer.minCapacity = size;
    // Any tail with a quarter of a read's room will do: a connection of small
    // frames then fills one allocation with many of them.
    const room = buffer.reserve(
      Math.max(size / 4, Math.min(need - buffer.length, PREALLOCATE_MAX)),
    );
    this.#readRoom = room.length;
    if (need > LARGE_FRAME) this.#readLimit = MAX_READ_LARGE_FRAMES;
    return room;
  }

  // One pair of callbacks for both kinds of read: each is a closure every
  // socket keeps, and an idle server holds thousands of sockets.
  readonly #onRead = (n: number | null): void => {
    if (this.#readingFast) this.#onFastRead(n);
    else this.#onQueuedRead(n);
  };

  readonly #onReadError = (error: unknown): void => {
    this.#readFailed(error);
    if (this.#readingFast) this.#continueFast();
    else this.#serve();
  };

  #onQueuedRead(n: number | null): void {
    this.#reading = false;
    const direct = this.#direct;
    if (direct !== undefined) {
      this.#direct = undefined;
      if (n !== null && n > 0) {
        this.#onProgress();
        // Its call cannot have given up, only been closed (bytes and all).
        if (this.#calls.head === direct) this.#calls.resolveHead(n);
        return this.#serve();
      }
    }
    this.#received(n);
    this.#serve();
  }

  #onFastRead(n: number | null): void {
    this.#reading = false;
    const direct = this.#direct;
    this.#direct = undefined;
    if (direct === undefined || n === null) {
      this.#received(n);
    } else if (n > 0) {
      this.#onProgress();
      // Into the caller's memory: that is its answer.
      return this.#settleFast(n, false);
    }
    // Nothing read (a runtime may say so): the same call reads again.
    this.#continueFast();
  }

  /** Takes in what a read into the buffer returned: bytes, or the end. */
  #received(n: number | null): void {
    if (n === null) {
      this.#eof = true;
      return;
    }
    this.buffer.commit(n);
    this.#onProgress();
    this.#adaptReadSize(n);
  }

  #readFailed(error: unknown): void {
    this.#reading = false;
    this.#direct = undefined;
    this.#error ??= this.#closed !== undefined
      ? this.#closedError()
      : toSocketError(error, this.#readAction);
  }

  /** Grows reads that came back full, shrinks ones that came back nearly empty. */
  #adaptReadSize(n: number): void {
    const size = this.#readSize;
    const next = n >= Math.min(size, this.#readRoom)
      ? Math.min(size * 2, this.#readLimit)
      : n < size / 8
      ? Math.max(size / 2, MIN_READ)
      : size;
    this.#readSize = next;
  }
}

const NO_OPTIONS: CallOptions = {};
/** Every reader's queue until a call first waits in it: never waited on. */
const NO_CALLS = new WaitQueue<Want<unknown>, unknown>();
