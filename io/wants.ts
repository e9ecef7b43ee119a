// What a receive call wants from the reader's buffer, one class per kind of
// call: some bytes, exactly n bytes, one frame, every buffered frame, bytes
// copied into the caller's memory. Each takes its answer from the buffer or
// says that more bytes must arrive; the reader (reader.ts) queues the calls
// and reads.

import { SocketError } from "../errors.ts";
import type { ReadBuffer } from "../bytes/read_buffer.ts";
import { type DecodeDriver, incompleteFrame } from "../framing/decoder.ts";
import type { Framing } from "../framing/types.ts";

/** What a want sees of the reader. */
export interface ReadState {
  /** The bytes received and not yet taken. */
  readonly buffer: ReadBuffer;
  /** The driver for `framing`: the current one, or a fresh one. */
  driverFor<T>(framing: Framing<T>): DecodeDriver<T>;
  /** Bytes are being taken otherwise: a half-read frame's progress is void. */
  forgetFrame(): void;
}

/** What `Want.take` returns when more bytes must arrive first. */
export const MORE: unique symbol = Symbol("more bytes");

/** What one receive call wants from the buffer. */
export interface Want<R> {
  /** The answer, consumed from the buffer, or MORE. May throw (a bad frame). */
  take(reader: ReadState): R | typeof MORE;
  /** The answer once the stream has ended with what is buffered, or a throw. */
  end(reader: ReadState): R;
  /** How many bytes the buffer should hold for `take` to succeed; a hint. */
  need(reader: ReadState): number;
  /** Whether it wants a frame: the frame deadline applies while it waits. */
  readonly frame?: boolean;
}

/** Up to `max` bytes: whatever is buffered. */
export class SomeBytes implements Want<Uint8Array | null> {
  constructor(readonly max: number) {}
  take(reader: ReadState): Uint8Array | typeof MORE {
    const buffer = reader.buffer;
    if (buffer.length === 0) return MORE;
    reader.forgetFrame();
    return buffer.take(Math.min(this.max, buffer.length));
  }
  end(): null {
    return null;
  }
  need(reader: ReadState): number {
    return reader.buffer.length + 1;
  }
}

/** Exactly `n` bytes. */
export class ExactBytes implements Want<Uint8Array> {
  constructor(readonly n: number) {}
  take(reader: ReadState): Uint8Array | typeof MORE {
    if (reader.buffer.length < this.n) return MORE;
    reader.forgetFrame();
    return reader.buffer.take(this.n);
  }
  end(reader: ReadState): never {
    throw new SocketError(
      "EOF",
      `Cannot receive ${this.n} bytes: the stream ended after ${reader.buffer.length}`,
    );
  }
  need(): number {
    return this.n;
  }
}

/**
 * One value of `framing`, shaped by `wrap`; `atEnd` at a clean end. With
 * `lend` false the value is borrowed: the buffer may reuse its memory.
 */
export class OneFrame<T, R> implements Want<R> {
  readonly frame = true;
  constructor(
    readonly framing: Framing<T>,
    readonly wrap: (value: T) => R,
    readonly atEnd: R,
    readonly endedInside: (left: number) => Error = incompleteFrame,
    readonly lend = true,
  ) {}
  take(reader: ReadState): R | typeof MORE {
    const value = reader.driverFor(this.framing).next(reader.buffer, this.lend);
    return value === undefined ? MORE : this.wrap(value);
  }
  end(reader: ReadState): R {
    const buffer = reader.buffer;
    if (buffer.length === 0) return this.atEnd;
    // The framing's decodeEnd may make a value of the last bytes.
    const value = reader.driverFor(this.framing).end(buffer, this.lend);
    if (value !== undefined) return this.wrap(value);
    throw this.endedInside(buffer.length);
  }
  need(reader: ReadState): number {
    return Math.max(
      reader.driverFor(this.framing).need,
      reader.buffer.length + 1,
    );
  }
}

/** Every buffered value of `framing`, at least one. */
export class SomeFrames<T> implements Want<T[] | null> {
  readonly frame = true;
  readonly #one: OneFrame<T, T[] | null>;
  constructor(readonly framing: Framing<T>) {
    this.#one = new OneFrame(framing, (value) => [value], null);
  }
  take(reader: ReadState): T[] | null | typeof MORE {
    const first = this.#one.take(reader);
    if (first === MORE || first === null) return first;
    try {
      reader.driverFor(this.framing).drain(reader.buffer, first);
    } catch {
      // A malformed frame after good ones stays buffered: the next call
      // decodes it again and throws.
    }
    return first;
  }
  end(reader: ReadState): T[] | null {
    return this.#one.end(reader);
  }
  need(reader: ReadState): number {
    return this.#one.need(reader);
  }
}

/** Bytes copied into the caller's `target`: their count. */
export class IntoBytes implements Want<number | null> {
  /**
   * @param target Where the bytes go.
   * @param direct Whether the call can never give up (no timeout, no
   * signal), so that a read may go straight into `target`: a call that
   * gave up would leave a read writing into memory its caller reuses.
   */
  constructor(readonly target: Uint8Array, readonly direct: boolean) {}
  take(reader: ReadState): number | typeof MORE {
    const buffer = reader.buffer;
    const length = buffer.length;
    if (length === 0) return MORE;
    reader.forgetFrame();
    const n = Math.min(this.target.length, length);
    const start = buffer.start;
    this.target.set(buffer.bytes.subarray(start, start + n));
    buffer.skip(n);
    return n;
  }
  end(): null {
    return null;
  }
  need(reader: ReadState): number {
    return reader.buffer.length + 1;
  }
}
