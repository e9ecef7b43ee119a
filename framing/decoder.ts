// The one decode driver, and FrameDecoder on top of it.
//
// Every consumer of a framing finds values the same way: `FrameDecoder`,
// `decodeFrames`, `DecoderStream` and the socket's reads all hold a
// `DecodeDriver` over a `ReadBuffer`. The driver asks the framing for one
// value at the head of the buffer, consumes its bytes, and keeps the codec's
// progress on a frame that is still arriving (tokio-util's `FramedRead`
// plays this part there). Bytes are consumed only when a value is returned.

import { FrameError } from "../errors.ts";
import { ReadBuffer } from "../bytes/read_buffer.ts";
import {
  type Codec,
  codecOf,
  type DecodeState,
  type Framing,
} from "./types.ts";

/**
 * Finds the values of one framing in a {@linkcode ReadBuffer}, resuming a
 * frame begun where the last call stopped.
 */
export class DecodeDriver<T> {
  /** The framing values are decoded with. */
  readonly framing: Framing<T>;
  readonly #codec: Codec<T> | undefined;
  readonly #state: DecodeState = { scanned: 0, need: 0 };

  /** @param framing The framing to decode with. */
  constructor(framing: Framing<T>) {
    this.framing = framing;
    this.#codec = codecOf(framing);
  }

  /** Bytes the buffer must hold before the frame begun can be complete; 0 if unknown. */
  get need(): number {
    return this.#state.need;
  }

  /**
   * The next value in `buffer`, its bytes consumed; `undefined` when more
   * bytes are needed. With `lend` false the value is borrowed: its memory
   * may be reused by the buffer's next read.
   *
   * @throws {FrameError} The bytes at the head are malformed (nothing is consumed).
   */
  next(buffer: ReadBuffer, lend = true): T | undefined {
    const state = this.#state;
    const available = buffer.length;
    if (available === 0 || available < state.need) return undefined;
    const bytes = buffer.bytes;
    const start = buffer.start;
    const codec = this.#codec;
    let result: { value: T; next: number } | null;
    if (codec !== undefined) {
      result = codec.decode(bytes, start, state);
    } else {
      result = this.framing.decode(bytes, start);
      if (result !== null) checkNext(result.next, start, bytes.length);
    }
    if (result === null) return undefined;
    buffer.consumeTo(result.next, lend);
    state.need = state.scanned = 0;
    return result.value;
  }

  /**
   * Appends every complete value in `buffer` to `out`, consuming their bytes.
   * On a malformed frame it throws with the values before it already in
   * `out` and consumed.
   *
   * @throws {FrameError} As for {@linkcode DecodeDriver.next}.
   */
  drain(buffer: ReadBuffer, out: T[]): void {
    const state = this.#state;
    const many = this.#codec?.decodeMany;
    // One pass over every whole frame, unless a frame is half-decoded.
    if (
      many !== undefined && state.need === 0 && state.scanned === 0 &&
      buffer.length > 0
    ) {
      const start = buffer.start;
      const next = many.call(this.#codec, buffer.bytes, start, out);
      if (next !== start) buffer.consumeTo(next);
    }
    for (;;) {
      const value = this.next(buffer);
      if (value === undefined) return;
      out.push(value);
    }
  }

  /**
   * At the end of the stream: the value the framing's `decodeEnd` makes of
   * the bytes left in `buffer`, consumed; `undefined` when nothing is left,
   * or when what is left is not a value (the caller's INCOMPLETE_FRAME).
   *
   * @throws {FrameError} The framing's `decodeEnd` found the bytes malformed.
   */
  end(buffer: ReadBuffer, lend = true): T | undefined {
    if (buffer.length === 0 || this.framing.decodeEnd === undefined) {
      return undefined;
    }
    const bytes = buffer.bytes;
    const start = buffer.start;
    const result = this.framing.decodeEnd(bytes, start);
    if (result === null) return undefined;
    checkNext(result.next, start, bytes.length);
    buffer.consumeTo(result.next, lend);
    this.#state.need = this.#state.scanned = 0;
    return result.value;
  }
}

/** A framing's `decode` must consume at least one byte and no more than there are. */
function checkNext(next: number, offset: number, length: number): void {
  if (!(Number.isInteger(next) && next > offset && next <= length)) {
    throw new TypeError(
      `Cannot decode: the framing returned next = ${next} for offset ${offset} in ${length} bytes; it must consume at least one byte and at most what is there`,
    );
  }
}

/** The error for a stream that ended with `left` bytes of a frame buffered. */
export function incompleteFrame(left: number): FrameError {
  return new FrameError(
    "INCOMPLETE_FRAME",
    `Stream ended inside a frame: ${left} bytes left over`,
  );
}

/**
 * `decoder.push(chunk)` that appends the values to `out` as it goes, so that
 * on a FrameError the values decoded before it are kept (DecoderStream
 * delivers them). Private to the module.
 */
export let pushInto: <T>(
  decoder: FrameDecoder<T>,
  chunk: Uint8Array,
  out: T[],
) => void;

/** `decoder.end()` that appends the values to `out` as it goes. Private to the module. */
export let endInto: <T>(decoder: FrameDecoder<T>, out: T[]) => void;

/**
 * Drives any {@linkcode Framing} over a sequence of chunks: push bytes as they
 * arrive, get every value they complete. Values decoded from a single chunk
 * are views into it; values returned are never overwritten by later pushes.
 * Cost is linear in the bytes, however small the chunks.
 *
 * After a {@linkcode FrameError} the stream position is lost: every further
 * `push` throws the same error.
 *
 * @typeParam T The type of the values framed.
 *
 * @example Lines arriving one byte at a time
 * ```ts
 * import { delimited, FrameDecoder } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const decoder = new FrameDecoder(delimited());
 * const lines: string[] = [];
 * for (const byte of new TextEncoder().encode("ab\ncd\n")) {
 *   for (const line of decoder.push(new Uint8Array([byte]))) {
 *     lines.push(new TextDecoder().decode(line));
 *   }
 * }
 * decoder.end();
 * assertEquals(lines, ["ab", "cd"]);
 * ```
 */
export class FrameDecoder<T> {
  readonly #driver: DecodeDriver<T>;
  readonly #buffer = new ReadBuffer();
  #error: unknown = undefined;

  /**
   * Creates a decoder with nothing buffered.
   *
   * @param framing The codec to find values with.
   */
  constructor(framing: Framing<T>) {
    this.#driver = new DecodeDriver(framing);
  }

  /** Bytes received that are not yet part of a returned value. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Adds `chunk` to the stream.
   *
   * @param chunk The next bytes of the stream (not kept: copied if needed).
   * @returns Every value completed by this chunk, in order.
   * @throws {FrameError} The stream is malformed (now and on every later push).
   */
  push(chunk: Uint8Array): T[] {
    const values: T[] = [];
    this.#pushInto(chunk, values);
    return values;
  }

  /** `push`, appending to `out` as it goes: on an error, the values before it are in `out`. */
  #pushInto(chunk: Uint8Array, out: T[]): void {
    if (this.#error !== undefined) throw this.#error;
    const buffer = this.#buffer;
    // Nothing pending: decode straight from the chunk, without a copy.
    if (buffer.length === 0) {
      buffer.borrow(chunk);
    } else {
      // A frame of known size gets its room at once (capped: a header alone
      // must not allocate what it announces).
      const need = this.#driver.need;
      if (need > buffer.length + chunk.length) buffer.expect(need);
      buffer.append(chunk);
    }
    try {
      this.#driver.drain(buffer, out);
    } catch (error) {
      this.#error = error;
      throw error;
    } finally {
      buffer.unborrow();
    }
  }

  static {
    pushInto = (decoder, chunk, out) => decoder.#pushInto(chunk, out);
    endInto = (decoder, out) => decoder.#endInto(out);
  }

  /**
   * Declares the end of the stream.
   *
   * @returns The values the framing's `decodeEnd` makes of the bytes left
   * (a last line without its delimiter, with `delimited`'s
   * `acceptUnterminated`); none for most framings.
   * @throws {FrameError} `INCOMPLETE_FRAME` when bytes of a partial frame are left.
   */
  end(): T[] {
    const values: T[] = [];
    this.#endInto(values);
    return values;
  }

  /** `end`, appending to `out` as it goes: on an error, the values before it are in `out`. */
  #endInto(out: T[]): void {
    if (this.#error !== undefined) throw this.#error;
    const buffer = this.#buffer;
    try {
      for (;;) {
        if (buffer.length === 0) return;
        const value = this.#driver.end(buffer);
        if (value === undefined && buffer.length > 0) {
          throw incompleteFrame(buffer.length);
        }
        out.push(value as T);
        // Whole frames may follow the last value's bytes.
        this.#driver.drain(buffer, out);
      }
    } catch (error) {
      this.#error = error;
      throw error;
    }
  }
}
