/**
 * `varintPrefixed()`: an unsigned LEB128 length, then the payload. This is
 * protobuf's delimited stream (`writeDelimitedTo` / `parseDelimitedFrom` in
 * Java, `SerializeDelimitedToOstream` in C++, `_VarintBytes(len(data)) +
 * data` in Python): seven bits of the length per byte, lowest first, the top
 * bit set on every byte but the last.
 *
 * ```text
 * INPUT (4 bytes)                       DECODED
 * +- len: varint -+-- payload --+
 * | 03            | 'a' 'b' 'c' |       "abc"
 * +---------------+-------------+
 *
 * INPUT (302 bytes)                     DECODED
 * +- len: varint -+-- payload --+
 * | ac 02         | 300 bytes   |       300 bytes
 * +---------------+-------------+
 * 0xac 0x02 = 0b0101100 + (0b0000010 << 7) = 44 + 256 = 300
 * ```
 *
 * A length of more than 10 bytes, or over 2^53 - 1, is `BAD_HEADER` (that
 * wins over the limit); a length over `maxFrameBytes` is `FRAME_TOO_LARGE` as
 * soon as its last byte arrives, before the payload. Lengths written with
 * more bytes than needed (`0x83 0x00` for 3) are accepted, as protobuf does.
 *
 * @module
 */

import { FrameError } from "../errors.ts";
import { BuiltinCodec, type DecodeState, type Framing, view } from "./types.ts";
import { frameLimit, payloadLength, tooLarge } from "./_limits.ts";

/** Options for {@linkcode varintPrefixed}. */
export interface VarintPrefixOptions {
  /**
   * Largest payload accepted, in bytes; a length announcing more is
   * `FRAME_TOO_LARGE`.
   * @default {16777216}
   */
  maxFrameBytes?: number;
}

/** The most bytes a varint may take (a 64-bit value: protobuf's limit). */
const MAX_VARINT_BYTES = 10;

/** Bytes of the varint of `n`. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

class VarintFraming extends BuiltinCodec<Uint8Array> {
  readonly #maxFrameBytes: number;
  /** Bytes of the header `#header` read last. */
  #headerBytes = 0;

  constructor(options: VarintPrefixOptions) {
    super();
    this.#maxFrameBytes = frameLimit(options);
  }

  measure(value: Uint8Array): number {
    const length = payloadLength(value, "frame", this.#maxFrameBytes);
    return varintSize(length) + length;
  }

  write(value: Uint8Array, target: Uint8Array, offset: number): void {
    let n = value.length;
    let at = offset;
    while (n >= 128) {
      target[at++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    target[at++] = n;
    target.set(value, at);
  }

  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Uint8Array; next: number } | null {
    // At most 10 header bytes are read again on each call: linear cost.
    const length = this.#header(bytes, offset, true);
    if (length < 0) return null;
    const start = offset + this.#headerBytes;
    const end = start + length;
    if (end > bytes.length) {
      if (state) state.need = end - offset;
      return null;
    }
    return { value: view(bytes, start, end), next: end };
  }

  decodeMany(bytes: Uint8Array, offset: number, out: Uint8Array[]): number {
    const max = this.#maxFrameBytes;
    const size = bytes.length;
    // The view's arguments hoisted: one `.buffer` per call, not per frame.
    const buffer = bytes.buffer;
    const byteOffset = bytes.byteOffset;
    while (offset < size) {
      let length = bytes[offset];
      let start = offset + 1;
      if (length >= 128) { // A length of two bytes or more: the slow path.
        length = this.#header(bytes, offset, false);
        if (length < 0) break;
        start = offset + this.#headerBytes;
      } else if (length > max) {
        break;
      }
      const end = start + length;
      if (end > size) break;
      out.push(new Uint8Array(buffer, byteOffset + start, length));
      offset = end;
    }
    return offset;
  }

  /**
   * The length in the varint at `offset`, its size in `#headerBytes`; -1
   * when it has not all arrived. Over a limit or malformed: throws when
   * `check`, else -1 (for `decodeMany`, which stops there).
   */
  #header(bytes: Uint8Array, offset: number, check: boolean): number {
    let length = 0;
    let scale = 1;
    const size = bytes.length;
    for (let k = 0; k < MAX_VARINT_BYTES; k++) {
      if (offset + k >= size) return -1;
      const byte = bytes[offset + k];
      length += (byte & 127) * scale;
      if (length > Number.MAX_SAFE_INTEGER) {
        if (!check) return -1;
        throw new FrameError(
          "BAD_HEADER",
          `Cannot decode frame: the varint length is over 2^53 - 1 after ${
            k + 1
          } bytes`,
        );
      }
      if (byte < 128) {
        if (length > this.#maxFrameBytes) {
          if (!check) return -1;
          throw tooLarge(
            "decode frame: varint length announces",
            length,
            this.#maxFrameBytes,
          );
        }
        this.#headerBytes = k + 1;
        return length;
      }
      scale *= 128;
    }
    if (!check) return -1;
    throw new FrameError(
      "BAD_HEADER",
      `Cannot decode frame: the varint length goes on past ${MAX_VARINT_BYTES} bytes`,
    );
  }
}

/**
 * A framing that puts an unsigned LEB128 varint length before each payload:
 * protobuf's delimited streams (`writeDelimitedTo`, `parseDelimitedFrom`).
 * Small frames pay one header byte.
 *
 * @param options The largest payload accepted.
 * @returns A framing of `Uint8Array` payloads.
 * @throws {RangeError} `maxFrameBytes` is not a non-negative safe integer.
 *
 * @example Reading what protobuf's writeDelimitedTo wrote
 * ```ts
 * import { FrameDecoder, varintPrefixed } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const framing = varintPrefixed();
 * const bytes = framing.encode(new Uint8Array(300));
 * assertEquals([...bytes.subarray(0, 2)], [0xac, 0x02]); // 300
 * const decoder = new FrameDecoder(framing);
 * assertEquals(decoder.push(bytes.subarray(0, 1)), []); // half the varint
 * assertEquals(decoder.push(bytes.subarray(1))[0].length, 300);
 * ```
 */
export function varintPrefixed(
  options: VarintPrefixOptions = {},
): Framing<Uint8Array> {
  return new VarintFraming(options);
}
