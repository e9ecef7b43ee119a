/**
 * `lengthPrefixed()`: a length header, then the payload.
 *
 * The default (4-byte big-endian header, network byte order):
 *
 * ```text
 * INPUT (9 bytes)                       DECODED
 * +-- len: u32be --+--- payload ---+
 * | 00 00 00 05    | h e l l o     |    "hello"
 * +----------------+---------------+
 * ```
 *
 * `lengthPrefixed({ headerBytes: 4, littleEndian: true })` reads what Python's
 * `struct.pack("i", len(data)) + data` writes on x86:
 *
 * ```text
 * INPUT (9 bytes)                       DECODED
 * +-- len: u32le --+--- payload ---+
 * | 05 00 00 00    | h e l l o     |    "hello"
 * +----------------+---------------+
 * ```
 *
 * `headerBytes` may be 1, 2, 3, 4 or 8; 3 is the width of MySQL's packet
 * length and of TLS handshake messages. With `lengthIncludesHeader: true` the
 * length counts its own header bytes too, as PostgreSQL's StartupMessage
 * does; the value is still the payload alone, and a length smaller than the
 * header is `BAD_HEADER`:
 *
 * ```text
 * INPUT (9 bytes)                       DECODED
 * +-- len: u32be --+--- payload ---+
 * | 00 00 00 09    | h e l l o     |    "hello" (9 = 4 + 5)
 * +----------------+---------------+
 * ```
 *
 * @module
 */

import { FrameError } from "../errors.ts";
import { BuiltinCodec, type DecodeState, type Framing, view } from "./types.ts";
import {
  frameLimit,
  lengthHint,
  payloadLength,
  peerHint,
  tooLarge,
} from "./_limits.ts";
import { lengthHeader, type ReadUint, type WriteUint } from "../bytes/uint.ts";
import { DecodeDriver } from "./decoder.ts";
import { ReadBuffer } from "../bytes/read_buffer.ts";

/** Options for {@linkcode lengthPrefixed}, {@linkcode encodeFrame} and {@linkcode decodeFrames}. */
export interface LengthPrefixOptions {
  /**
   * Width of the length header in bytes.
   * @default {4}
   */
  headerBytes?: 1 | 2 | 3 | 4 | 8;
  /**
   * Byte order of the header. `false` is network byte order (big-endian);
   * `true` matches Python's `struct.pack("i", n)` on x86.
   * @default {false}
   */
  littleEndian?: boolean;
  /**
   * Largest payload accepted, in bytes; a header announcing more is
   * `FRAME_TOO_LARGE`.
   * @default {16777216}
   */
  maxFrameBytes?: number;
  /**
   * Whether the length counts its own header bytes too, as in PostgreSQL's
   * StartupMessage. The value is still the payload alone, and
   * `maxFrameBytes` still bounds the payload; a length smaller than the
   * header is `BAD_HEADER`.
   * @default {false}
   */
  lengthIncludesHeader?: boolean;
}

class LengthPrefixedFraming extends BuiltinCodec<Uint8Array> {
  readonly #headerBytes: number;
  /** What the length counts beyond the payload: `headerBytes` or 0. */
  readonly #included: number;
  readonly #maxFrameBytes: number;
  readonly #read: ReadUint;
  readonly #bigEndian32: boolean;
  readonly #write: WriteUint;

  constructor(options: LengthPrefixOptions) {
    super();
    const header = lengthHeader(options);
    this.#headerBytes = header.bytes;
    this.#included = options.lengthIncludesHeader ? header.bytes : 0;
    this.#maxFrameBytes = Math.min(
      frameLimit(options),
      header.max - this.#included,
    );
    this.#read = header.read;
    this.#bigEndian32 = header.bytes === 4 && !header.littleEndian;
    this.#write = header.write;
  }

  measure(value: Uint8Array): number {
    return this.#headerBytes +
      payloadLength(value, "frame", this.#maxFrameBytes);
  }

  write(value: Uint8Array, target: Uint8Array, offset: number): void {
    this.#write(target, offset, value.length + this.#included);
    target.set(value, offset + this.#headerBytes);
  }

  writeMany(
    values: readonly Uint8Array[],
    from: number,
    target: Uint8Array,
    offset: number,
  ): { next: number; end: number } {
    // One call per write buffer instead of two calls per frame.
    const headerBytes = this.#headerBytes;
    const included = this.#included;
    const maxFrameBytes = this.#maxFrameBytes;
    const size = target.length;
    let end = offset;
    let next = from;
    for (; next < values.length; next++) {
      const value = values[next];
      if (!(value instanceof Uint8Array)) break;
      const length = value.length;
      if (length > maxFrameBytes || size - end < headerBytes + length) break;
      this.#write(target, end, length + included);
      target.set(value, end + headerBytes);
      end += headerBytes + length;
    }
    return { next, end };
  }

  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Uint8Array; next: number } | null {
    const headerBytes = this.#headerBytes;
    if (bytes.length - offset < headerBytes) return null;
    const length = this.#lengthAt(bytes, offset) - this.#included;
    if (length < 0) {
      throw new FrameError(
        "BAD_HEADER",
        `Cannot decode frame: the header says ${
          length + this.#included
        } bytes, fewer than its own ${headerBytes} (lengthIncludesHeader)`,
      );
    }
    if (length > this.#maxFrameBytes) {
      throw tooLarge(
        "decode frame: header announces",
        length,
        this.#maxFrameBytes,
        headerBytes === 4
          ? lengthHint(
            bytes,
            offset,
            !this.#bigEndian32,
            this.#maxFrameBytes,
            this.#included,
          )
          : headerBytes > 1
          ? peerHint(bytes, offset)
          : "",
      );
    }
    const start = offset + headerBytes;
    const end = start + length;
    if (end > bytes.length) {
      if (state) state.need = headerBytes + length;
      return null;
    }
    return { value: view(bytes, start, end), next: end };
  }

  decodeMany(bytes: Uint8Array, offset: number, out: Uint8Array[]): number {
    const headerBytes = this.#headerBytes;
    const included = this.#included;
    const maxFrameBytes = this.#maxFrameBytes;
    const size = bytes.length;
    // The view's arguments hoisted: one `.buffer` per call, not per frame.
    const buffer = bytes.buffer;
    const base = bytes.byteOffset + headerBytes;
    while (size - offset >= headerBytes) {
      const length = this.#lengthAt(bytes, offset) - included;
      const end = offset + headerBytes + length;
      if (length > maxFrameBytes || length < 0 || end > size) break;
      out.push(new Uint8Array(buffer, base + offset, length));
      offset = end;
    }
    return offset;
  }

  /** The length in the header at `offset`; the default (u32 big-endian) inline: the hot path. */
  #lengthAt(bytes: Uint8Array, offset: number): number {
    return this.#bigEndian32
      ? bytes[offset] * 0x1000000 +
        ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
          bytes[offset + 3])
      : this.#read(bytes, offset);
  }
}

/**
 * A framing that puts a length header before each payload: the way to speak
 * to a peer that writes `struct.pack("!I", len(data)) + data`.
 *
 * @param options Header width, byte order and the largest payload accepted.
 * @returns A framing of `Uint8Array` payloads.
 * @throws {RangeError} `headerBytes` is not 1, 2, 3, 4 or 8, or `maxFrameBytes`
 * is not a non-negative safe integer.
 *
 * @example Talking to a Python peer using `struct.pack("i", n)` on x86
 * ```ts
 * import { lengthPrefixed } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const framing = lengthPrefixed({ littleEndian: true });
 * const bytes = framing.encode(new TextEncoder().encode("abc"));
 * assertEquals([...bytes], [3, 0, 0, 0, 0x61, 0x62, 0x63]);
 * const decoded = framing.decode(bytes, 0);
 * assertEquals(decoded?.next, 7);
 * ```
 *
 * @example A length that counts itself: PostgreSQL's StartupMessage
 * ```ts
 * import { lengthPrefixed } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const startup = lengthPrefixed({ lengthIncludesHeader: true });
 * const body = new Uint8Array([0, 3, 0, 0, 0]); // protocol 3.0, no parameters
 * assertEquals([...startup.encode(body).subarray(0, 4)], [0, 0, 0, 9]);
 * ```
 */
export function lengthPrefixed(
  options: LengthPrefixOptions = {},
): Framing<Uint8Array> {
  return new LengthPrefixedFraming(options);
}

/** `lengthPrefixed()`: the framing of `encodeFrame`, `decodeFrames` and sockets made without one. */
export const DEFAULT_FRAMING: Framing<Uint8Array> = lengthPrefixed();

/**
 * One length-prefixed frame: the header, then `payload`.
 *
 * @param payload The bytes to frame.
 * @param options As for {@linkcode lengthPrefixed}.
 * @returns A new array holding the header and the payload.
 * @throws {FrameError} `FRAME_TOO_LARGE` when the payload is over the limit.
 *
 * @example Exact bytes
 * ```ts
 * import { encodeFrame } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const frame = encodeFrame(new TextEncoder().encode("abc"));
 * assertEquals([...frame], [0, 0, 0, 3, 0x61, 0x62, 0x63]);
 * ```
 */
export function encodeFrame(
  payload: Uint8Array,
  options?: LengthPrefixOptions,
): Uint8Array {
  return (options ? lengthPrefixed(options) : DEFAULT_FRAMING).encode(payload);
}

/**
 * Every complete length-prefixed frame in `bytes`, and the bytes after them.
 * The frames and `rest` are views into `bytes`, not copies.
 *
 * @param bytes A buffer that starts at a frame boundary.
 * @param options As for {@linkcode lengthPrefixed}.
 * @returns The frames, and `rest`: the start of an incomplete frame (maybe empty).
 * @throws {FrameError} `FRAME_TOO_LARGE` when a header is over the limit.
 *
 * @example Two frames and half of a third
 * ```ts
 * import { decodeFrames } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const bytes = new Uint8Array([0, 0, 0, 1, 65, 0, 0, 0, 0, 0, 0]);
 * const { frames, rest } = decodeFrames(bytes);
 * assertEquals(frames.map((f) => [...f]), [[65], []]);
 * assertEquals([...rest], [0, 0]);
 * ```
 */
export function decodeFrames(
  bytes: Uint8Array,
  options?: LengthPrefixOptions,
): { frames: Uint8Array[]; rest: Uint8Array } {
  const buffer = new ReadBuffer();
  buffer.borrow(bytes);
  const frames: Uint8Array[] = [];
  new DecodeDriver(options ? lengthPrefixed(options) : DEFAULT_FRAMING)
    .drain(buffer, frames);
  return { frames, rest: buffer.peek() };
}
