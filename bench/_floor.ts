// The "floor" variant of bench/net.ts: the least code that follows the same
// rules as this module in the small, batch and concurrency cases, so a run
// shows what those rules cost before any library code runs:
//
// - one awaited `sendFrame` per frame, and one `for await` step per frame;
// - a writer that writes at once when idle and gathers frames while a write is
//   in flight (an echo server must not wait), with backpressure; a write that
//   completes within the caller's run of microtasks (Deno's do, to a socket
//   with room) would otherwise leave every second frame on its own, so a
//   partial batch waits for the event loop's next turn;
// - frames handed out stay valid, so reads never reuse memory under them.
//
// Nothing else: no error handling, timeouts, framing choice or size checks. A
// frame is a 4-byte big-endian length, then the payload (up to 16 KiB here).

import { setImmediate } from "node:timers";

const RESOLVED = Promise.resolve();
/** Bytes gathered before `sendFrame` waits for the write in flight. */
const HIGH_WATER = 64 * 1024;
/**
 * Fresh memory for reads, 16 KiB until a read fills its room, then 64 KiB; a
 * read starts a new chunk when less than a quarter of one is left.
 */
const SMALL_CHUNK = 16 * 1024;
const LARGE_CHUNK = 64 * 1024;
/** Write buffers start small (a server holds one pair per connection) and grow. */
const FIRST_WRITE_BUFFER = 4 * 1024;

/** Gathers frames into one buffer while another is being written. */
export class FloorWriter {
  readonly #conn: Deno.Conn;
  #gathering = new Uint8Array(FIRST_WRITE_BUFFER);
  #spare = new Uint8Array(FIRST_WRITE_BUFFER);
  #used = 0;
  #writing = false;
  #holding = false;
  #drained: PromiseWithResolvers<void> | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  sendFrame(payload: Uint8Array): Promise<void> {
    this.#append(payload);
    return this.#accepted();
  }

  sendFrames(payloads: Uint8Array[]): Promise<void> {
    for (const payload of payloads) {
      if (this.#used + 4 + payload.length > this.#gathering.length) {
        this.#grow(payload.length);
      }
      this.#append(payload);
    }
    return this.#accepted();
  }

  /** Resolves once everything sent so far is written. */
  async flush(): Promise<void> {
    while (this.#writing || this.#used > 0) {
      if (!this.#writing) this.#write();
      await (this.#drained ??= Promise.withResolvers()).promise;
    }
  }

  #append(payload: Uint8Array): void {
    const n = payload.length;
    if (this.#used + 4 + n > this.#gathering.length) this.#grow(n);
    const bytes = this.#gathering;
    const at = this.#used;
    bytes[at] = n >>> 24;
    bytes[at + 1] = n >>> 16;
    bytes[at + 2] = n >>> 8;
    bytes[at + 3] = n;
    bytes.set(payload, at + 4);
    this.#used = at + 4 + n;
  }

  #grow(n: number): void {
    const bigger = new Uint8Array((this.#used + 4 + n) * 2);
    bigger.set(this.#gathering.subarray(0, this.#used));
    this.#gathering = bigger;
  }

  #accepted(): Promise<void> {
    if (!this.#writing && (!this.#holding || this.#used >= HIGH_WATER)) {
      this.#write();
    } else if (this.#used >= HIGH_WATER) {
      return (this.#drained ??= Promise.withResolvers()).promise;
    }
    return RESOLVED;
  }

  #write(): void {
    const bytes = this.#gathering.subarray(0, this.#used);
    [this.#gathering, this.#spare] = [this.#spare, this.#gathering];
    this.#used = 0;
    this.#writing = true;
    this.#writeAll(bytes).then(() => {
      this.#writing = false;
      if (this.#used >= HIGH_WATER || (this.#used > 0 && this.#drained)) {
        this.#write();
      } else if (this.#used > 0) {
        this.#holding = true;
        setImmediate(this.#endHold);
      }
      this.#drained?.resolve();
      this.#drained = undefined;
    });
  }

  readonly #endHold = (): void => {
    this.#holding = false;
    if (!this.#writing && this.#used > 0) this.#write();
  };

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let offset = 0; offset < bytes.length;) {
      offset += await this.#conn.write(bytes.subarray(offset));
    }
  }
}

/** Frames as views into fresh memory: `for await` over it, or `recvFrames()`. */
export class FloorReader implements AsyncIterableIterator<Uint8Array> {
  readonly #conn: Deno.Conn;
  #bytes = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #chunk = SMALL_CHUNK;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const frame = this.#decode();
    if (frame !== undefined) {
      return Promise.resolve({ value: frame, done: false });
    }
    return this.#readThen(() => this.next(), { value: undefined, done: true });
  }

  /** Every buffered frame, at least one; null at the end of the stream. */
  recvFrames(): Promise<Uint8Array[] | null> {
    const frames: Uint8Array[] = [];
    for (let frame = this.#decode(); frame; frame = this.#decode()) {
      frames.push(frame);
    }
    if (frames.length > 0) return Promise.resolve(frames);
    return this.#readThen(() => this.recvFrames(), null);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #decode(): Uint8Array | undefined {
    const bytes = this.#bytes;
    const start = this.#start;
    if (this.#end - start < 4) return undefined;
    const length = bytes[start] * 0x1000000 +
      ((bytes[start + 1] << 16) | (bytes[start + 2] << 8) | bytes[start + 3]);
    if (this.#end - start - 4 < length) return undefined;
    this.#start = start + 4 + length;
    return new Uint8Array(bytes.buffer, start + 4, length);
  }

  async #readThen<R, E>(then: () => Promise<R>, end: E): Promise<R | E> {
    if (this.#bytes.length - this.#end < this.#chunk / 4) {
      const fresh = new Uint8Array(this.#chunk);
      fresh.set(this.#bytes.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#bytes = fresh;
    }
    const room = this.#bytes.length - this.#end;
    const n = await this.#conn.read(this.#bytes.subarray(this.#end));
    if (n === null) return end;
    if (n === room) this.#chunk = LARGE_CHUNK;
    this.#end += n;
    return then();
  }
}

/** The contract's default high-water mark, which QueuedFrameWriter keeps. */
const QUEUED_HIGH_WATER = 1024 * 1024;

/**
 * The floor of `sendFrame` for large frames under the contract's default:
 * each frame is copied (the caller may reuse its bytes at once) into a buffer
 * of its own, and the send resolves at once while under a megabyte is queued;
 * one write is in flight, a written buffer takes the next frame.
 */
export class QueuedFrameWriter {
  readonly #conn: Deno.Conn;
  readonly #queue: Uint8Array[] = [];
  readonly #free: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #drained: PromiseWithResolvers<void> | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  sendFrame(payload: Uint8Array): Promise<void> {
    const size = 4 + payload.length;
    let copy = this.#free.pop();
    if (copy === undefined || copy.length < size) copy = new Uint8Array(size);
    new DataView(copy.buffer).setUint32(0, payload.length);
    copy.set(payload, 4);
    this.#queue.push(copy.subarray(0, size));
    this.#queued += size;
    if (!this.#writing) this.#writeQueued();
    if (this.#queued < QUEUED_HIGH_WATER) return RESOLVED;
    return (this.#drained ??= Promise.withResolvers()).promise;
  }

  async #writeQueued(): Promise<void> {
    this.#writing = true;
    for (let bytes; (bytes = this.#queue.shift()) !== undefined;) {
      for (let offset = 0; offset < bytes.length;) {
        offset += await this.#conn.write(bytes.subarray(offset));
      }
      this.#queued -= bytes.length;
      this.#free.push(new Uint8Array(bytes.buffer));
      if (this.#queued < QUEUED_HIGH_WATER) {
        this.#drained?.resolve();
        this.#drained = undefined;
      }
    }
    this.#writing = false;
    this.#drained?.resolve();
    this.#drained = undefined;
  }
}

/**
 * The floor of `recvInto`: the read goes straight into the caller's target,
 * but each call has a promise of its own that `close()` can settle at once
 * (a pending receive must not wait for the runtime's read to notice).
 */
export class FloorIntoReader {
  readonly #conn: Deno.Conn;
  #resolve: ((n: number | null) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  recvInto(target: Uint8Array): Promise<number | null> {
    const promise = new Promise<number | null>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#conn.read(target).then(this.#onRead, this.#onError);
    return promise;
  }

  /** What close() does first: settles the pending receive at once. */
  abandon(): void {
    this.#reject?.(new Error("closed"));
    this.#resolve = this.#reject = undefined;
  }

  readonly #onRead = (n: number | null): void => {
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.(n);
  };

  readonly #onError = (error: unknown): void => {
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(error);
  };
}
