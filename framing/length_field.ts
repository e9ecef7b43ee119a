/**
 * `lengthField()`: a length field inside a larger header, as Netty's
 * `LengthFieldBasedFrameDecoder` and tokio-util's `length_delimited::Builder`
 * read it. A frame is `offset` bytes, then the length field (`headerBytes`
 * wide, in either byte order), then the rest; the whole frame is
 * `offset + headerBytes + field + adjustment` bytes long. The decoded value is
 * the whole frame as it was on the wire, header included: the protocol's own
 * parser reads its type byte or sequence number from it.
 *
 * PostgreSQL's messages, `lengthField({ offset: 1, headerBytes: 4,
 * adjustment: -4 })`: a type byte, then an int32 length that counts itself
 * and the body but not the type byte:
 *
 * ```text
 * INPUT (6 bytes)                                 DECODED
 * +- type -+-- len: u32be --+- body -+
 * | 'Z'    | 00 00 00 05    | 'I'    |            5a 00 00 00 05 49
 * +--------+----------------+--------+            (the whole frame)
 * frame = 1 + 4 + len - 4 = 6 bytes
 * ```
 *
 * MySQL's packets, `lengthField({ headerBytes: 3, littleEndian: true,
 * adjustment: 1 })`: a 3-byte little-endian payload length, then a sequence
 * byte the length does not count:
 *
 * ```text
 * INPUT (7 bytes)                                 DECODED
 * +-- len: u24le --+- seq -+-- payload --+
 * | 03 00 00       | 00    | 'a' 'b' 'c' |        the whole 7 bytes
 * +----------------+-------+-------------+
 * frame = 0 + 3 + len + 1 bytes
 * ```
 *
 * `encode` takes a whole frame (the length field's bytes in it are ignored)
 * and returns a copy with the field filled in; the caller's array is never
 * modified.
 *
 * A field that makes the frame shorter than its header (`offset +
 * headerBytes`) is `BAD_HEADER`; a frame over `maxFrameBytes` (counted whole)
 * is `FRAME_TOO_LARGE`, thrown as soon as the field has arrived.
 *
 * @module
 */

import { FrameError } from "../errors.ts";
import {
  BuiltinCodec,
  checkBytes,
  type DecodeState,
  type Framing,
  view,
} from "./types.ts";
import { checkLimit, frameLimit, tooLarge } from "./_limits.ts";
import { lengthHeader, type ReadUint, type WriteUint } from "../bytes/uint.ts";

/** Options for {@linkcode lengthField}. */
export interface LengthFieldOptions {
  /**
   * Bytes before the length field (a type byte, a magic number…).
   * @default {0}
   */
  offset?: number;
  /**
   * Width of the length field in bytes.
   * @default {4}
   */
  headerBytes?: 1 | 2 | 3 | 4 | 8;
  /**
   * Byte order of the length field. `false` is network byte order
   * (big-endian).
   * @default {false}
   */
  littleEndian?: boolean;
  /**
   * Added to the field to get the bytes that follow it: `-4` when the field
   * counts its own 4 bytes (PostgreSQL), `1` when a byte after it is not
   * counted (MySQL's sequence byte). Any safe integer.
   * @default {0}
   */
  adjustment?: number;
  /**
   * Largest whole frame accepted (prefix, field and the rest), in bytes; a
   * field announcing more is `FRAME_TOO_LARGE`.
   * @default {16777216}
   */
  maxFrameBytes?: number;
}

class LengthFieldFraming extends BuiltinCodec<Uint8Array> {
  /** Where the field begins in a frame. */
  readonly #offset: number;
  /** `offset + headerBytes`: the shortest frame. */
  readonly #headerEnd: number;
  /** `offset + headerBytes + adjustment`: a frame's length minus its field. */
  readonly #base: number;
  readonly #maxFrameBytes: number;
  readonly #fieldMax: number;
  readonly #read: ReadUint;
  readonly #write: WriteUint;

  constructor(options: LengthFieldOptions) {
    super();
    const field = lengthHeader(options);
    const adjustment = options.adjustment ?? 0;
    if (!Number.isSafeInteger(adjustment)) {
      throw new RangeError(
        `Cannot create framing: adjustment must be a safe integer, got ${adjustment}`,
      );
    }
    this.#offset = checkLimit("offset", options.offset ?? 0);
    this.#headerEnd = this.#offset + field.bytes;
    this.#base = this.#headerEnd + adjustment;
    this.#maxFrameBytes = frameLimit(options);
    this.#fieldMax = field.max;
    this.#read = field.read;
    this.#write = field.write;
  }

  measure(frame: Uint8Array): number {
    // Not `payloadLength`: a frame shorter than its header is BAD_HEADER
    // first, even when a limit below the header makes it too large too.
    const length = checkBytes(frame, "frame").length;
    const shortest = Math.max(this.#headerEnd, this.#base);
    if (length < shortest) {
      throw new FrameError(
        "BAD_HEADER",
        `Cannot encode frame: ${length} bytes, shorter than the ${shortest} bytes its header implies`,
      );
    }
    if (length > this.#maxFrameBytes) {
      throw tooLarge("encode frame", length, this.#maxFrameBytes);
    }
    const field = length - this.#base;
    if (field > this.#fieldMax) {
      throw tooLarge(
        "encode frame: the length field would say",
        field,
        this.#fieldMax,
        ` (the most ${this.#headerEnd - this.#offset} bytes hold)`,
      );
    }
    return length;
  }

  write(frame: Uint8Array, target: Uint8Array, offset: number): void {
    target.set(frame, offset);
    this.#write(target, offset + this.#offset, frame.length - this.#base);
  }

  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Uint8Array; next: number } | null {
    if (bytes.length - offset < this.#headerEnd) return null;
    const length = this.#frameLength(bytes, offset);
    const end = offset + length;
    if (end > bytes.length) {
      if (state) state.need = length;
      return null;
    }
    return { value: view(bytes, offset, end), next: end };
  }

  /** The whole length of the frame at `offset`, from its field; checked. */
  #frameLength(bytes: Uint8Array, offset: number): number {
    const field = this.#read(bytes, offset + this.#offset);
    const length = this.#base + field;
    if (length < this.#headerEnd) {
      throw new FrameError(
        "BAD_HEADER",
        `Cannot decode frame: length field ${field} makes a frame of ${length} bytes, shorter than its ${this.#headerEnd}-byte header`,
      );
    }
    if (length > this.#maxFrameBytes) {
      throw tooLarge(
        "decode frame: length field announces",
        length,
        this.#maxFrameBytes,
      );
    }
    return length;
  }

  decodeMany(bytes: Uint8Array, offset: number, out: Uint8Array[]): number {
    const headerEnd = this.#headerEnd;
    const base = this.#base;
    const max = this.#maxFrameBytes;
    const at = this.#offset;
    const read = this.#read;
    const size = bytes.length;
    // The view's arguments hoisted: one `.buffer` per call, not per frame.
    const buffer = bytes.buffer;
    const byteOffset = bytes.byteOffset;
    while (size - offset >= headerEnd) {
      const length = base + read(bytes, offset + at);
      if (length < headerEnd || length > max || offset + length > size) break;
      out.push(new Uint8Array(buffer, byteOffset + offset, length));
      offset += length;
    }
    return offset;
  }
}

/**
 * A framing for a length field inside a larger header: PostgreSQL messages,
 * MySQL packets, and most binary protocols with a type byte or magic number
 * before their length. The decoded value is the whole frame, header included;
 * `encode` takes a whole frame and fills in its length field (in a copy).
 *
 * @param options Where the field is, its width and byte order, what to add
 * to it, and the largest frame accepted.
 * @returns A framing of whole frames as `Uint8Array`s.
 * @throws {RangeError} `headerBytes` is not 1, 2, 3, 4 or 8, `adjustment` is
 * not a safe integer, or `offset` or `maxFrameBytes` is not a non-negative
 * safe integer.
 *
 * @example PostgreSQL's ReadyForQuery message
 * ```ts
 * import { FrameDecoder, lengthField } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const postgres = lengthField({ offset: 1, headerBytes: 4, adjustment: -4 });
 * const decoder = new FrameDecoder(postgres);
 * assertEquals(decoder.push(new Uint8Array([0x5a, 0, 0, 0])), []);
 * const [frame] = decoder.push(new Uint8Array([5, 0x49]));
 * assertEquals(String.fromCharCode(frame[0], frame[5]), "ZI");
 * ```
 *
 * @example Encoding fills in the length field
 * ```ts
 * import { lengthField } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const postgres = lengthField({ offset: 1, headerBytes: 4, adjustment: -4 });
 * const terminate = new Uint8Array([0x58, 0, 0, 0, 0]); // "X", length to fill
 * assertEquals([...postgres.encode(terminate)], [0x58, 0, 0, 0, 4]);
 * assertEquals([...terminate], [0x58, 0, 0, 0, 0]); // not modified
 * ```
 *
 * @example MySQL packets: 3-byte little-endian length, then a sequence byte
 * ```ts
 * import { lengthField } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const mysql = lengthField({ headerBytes: 3, littleEndian: true, adjustment: 1 });
 * const packet = new Uint8Array([3, 0, 0, 7, 0x61, 0x62, 0x63]);
 * const decoded = mysql.decode(packet, 0);
 * assertEquals(decoded?.value[3], 7); // the sequence number
 * assertEquals(decoded?.next, 7);
 * ```
 */
export function lengthField(
  options: LengthFieldOptions = {},
): Framing<Uint8Array> {
  return new LengthFieldFraming(options);
}
