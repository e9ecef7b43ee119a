// Framing<T>, the public codec interface, and what the built-in codecs share
// privately: the fast paths the decode driver and the socket's writer use,
// the base class that gives them `encode`, and byte helpers (their limits are
// in ./_limits.ts). Nothing here is re-exported except `Framing`.

/**
 * A codec: turns values into bytes and finds values in bytes. Write your own
 * for a protocol the built-in codecs do not cover; these two methods are all
 * a framing needs to work everywhere a framing is taken (decoders, streams,
 * sockets).
 *
 * @typeParam T The type of the values framed.
 *
 * @example A custom framing: fixed 2-byte records
 * ```ts
 * import { FrameDecoder, type Framing } from "@wire/socket/framing";
 * import { assertEquals } from "@std/assert";
 *
 * const pairs: Framing<Uint8Array> = {
 *   encode: (value) => value,
 *   decode: (bytes, offset) =>
 *     bytes.length - offset < 2
 *       ? null
 *       : { value: bytes.subarray(offset, offset + 2), next: offset + 2 },
 * };
 * const decoder = new FrameDecoder(pairs);
 * assertEquals(decoder.push(new Uint8Array([1, 2, 3])).length, 1);
 * assertEquals(decoder.buffered, 1);
 * ```
 */
export interface Framing<T> {
  /**
   * The bytes of one frame holding `value`.
   *
   * @throws {FrameError} `FRAME_TOO_LARGE` when the value does not fit.
   * @throws {TypeError} The value is not of the framing's type.
   */
  encode(value: T): Uint8Array;
  /**
   * Decodes one value starting at `offset`; `null` when more bytes are
   * needed. Bytes are consumed only when a value is returned: `next` is the
   * offset after its frame. Must not copy the payload when it lies inside
   * `bytes` (return a subarray).
   *
   * @throws {FrameError} The bytes at `offset` are malformed.
   */
  decode(bytes: Uint8Array, offset: number): { value: T; next: number } | null;
  /**
   * Optional: decodes the stream's last bytes, at `offset`, once no more
   * will come (tokio's `decode_eof`). Every driver (a socket's receives,
   * `FrameDecoder.end`, `decodeFrames`, `DecoderStream`) calls it at the end
   * of the stream while bytes are left that `decode` found incomplete, and
   * again after each value it returns while bytes remain. `null` means the
   * bytes are not a value: `FrameError("INCOMPLETE_FRAME")`, which is also
   * what a framing without this method gets. Like `decode`, it returns a
   * view where it can and consumes at least one byte.
   *
   * @throws {FrameError} The last bytes are malformed.
   */
  decodeEnd?(
    bytes: Uint8Array,
    offset: number,
  ): { value: T; next: number } | null;
}

/**
 * Progress the decode driver keeps for one frame that is arriving in pieces,
 * so a codec resumes where it stopped instead of rescanning from the start.
 * The driver passes the same object back while the frame is incomplete and
 * resets both fields to 0 once a value is returned.
 */
export interface DecodeState {
  /** Bytes after `offset` already examined without finding the frame's end. */
  scanned: number;
  /** Bytes from `offset` that must be available before decoding can succeed; 0 if unknown. */
  need: number;
}

/**
 * The fast paths a built-in codec implements beside `encode`/`decode`. The
 * decode driver and the socket's writer use them when present; a framing
 * without them takes the plain path and is just as correct.
 */
export interface Codec<T> {
  /** `Framing.decode` that records its progress in `state` (see {@linkcode DecodeState}). */
  decode(
    bytes: Uint8Array,
    offset: number,
    state: DecodeState,
  ): { value: T; next: number } | null;
  /**
   * Decodes every complete, well-formed value from `offset` on, appending
   * each to `out`, and returns the offset after the last one. Stops, without
   * throwing, before a frame that is incomplete or malformed: `decode` then
   * reports it.
   */
  decodeMany?(bytes: Uint8Array, offset: number, out: T[]): number;
  /**
   * Validates `value` as `encode` would (same errors) and returns the length
   * of its frame. The writer calls `write` right after, with the same value.
   */
  measure(value: T): number;
  /**
   * Writes the frame of a value `measure` just accepted: exactly that many
   * bytes at `target[offset]`. Does not validate again.
   */
  write(value: T, target: Uint8Array, offset: number): void;
  /**
   * Writes the frames of `values[from]`, `values[from + 1]`, … one after
   * another into `target` from `offset` on; returns `next`, the index of the
   * first value not written, and `end`, the offset after the last byte
   * written. Stops, without throwing, before a value whose frame does not
   * fit in the rest of `target` or that `measure` would reject.
   */
  writeMany?(
    values: readonly T[],
    from: number,
    target: Uint8Array,
    offset: number,
  ): { next: number; end: number };
}

/** The key under which a built-in framing carries its {@linkcode Codec}. */
export const CODEC: unique symbol = Symbol("@wire/socket codec");

/** A framing that carries a {@linkcode Codec}: every built-in one. */
export interface CodecFraming<T> extends Framing<T> {
  /** The fast paths; see {@linkcode Codec}. */
  readonly [CODEC]: Codec<T>;
}

/**
 * `framing.encode(value)`, checked: a framing a user wrote may return
 * something that is not bytes, which must not reach a socket or a stream.
 *
 * @throws {TypeError} `encode` returned something other than a Uint8Array.
 */
export function encodeChecked<T>(framing: Framing<T>, value: T): Uint8Array {
  const bytes = framing.encode(value);
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot encode: the framing's encode returned ${
        kindOf(bytes)
      }, not a Uint8Array`,
    );
  }
  return bytes;
}

/** The fast paths of `framing`, or `undefined` for a framing a user wrote. */
export function codecOf<T>(framing: Framing<T>): Codec<T> | undefined {
  return (framing as Partial<CodecFraming<T>>)[CODEC];
}

/**
 * What every built-in codec is: a framing that is its own {@linkcode Codec},
 * whose `encode` is `measure` then `write` into an array of that size. A
 * subclass writes `measure`, `write` and `decode`, and the batch paths
 * (`decodeMany`, `writeMany`) where it has them.
 */
export abstract class BuiltinCodec<T> implements CodecFraming<T>, Codec<T> {
  readonly [CODEC]: Codec<T> = this;

  encode(value: T): Uint8Array {
    const out = new Uint8Array(this.measure(value));
    this.write(value, out, 0);
    return out;
  }

  abstract measure(value: T): number;

  abstract write(value: T, target: Uint8Array, offset: number): void;

  abstract decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: T; next: number } | null;
}

// ---------------------------------------------------------------------------
// Shared by the codecs (their limits: ./_limits.ts)

export const utf8Encoder: TextEncoder = new TextEncoder();

/** `value` if it is a Uint8Array; a TypeError naming `what` otherwise. */
export function checkBytes(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError(
    `Cannot encode ${what}: expected a Uint8Array, got ${kindOf(value)}`,
  );
}

/** A short description of a value's type for error messages. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (value instanceof ArrayBuffer) return "an ArrayBuffer";
  return typeof value;
}

/**
 * `bytes.subarray(start, end)` as a plain Uint8Array, built directly since
 * that is cheaper than `subarray` (BENCHMARKS.md): decoders make one per
 * frame.
 */
export function view(
  bytes: Uint8Array,
  start: number,
  end: number,
): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}
