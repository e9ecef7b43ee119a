/**
 * `netstring()`: D. J. Bernstein's netstrings (https://cr.yp.to/proto/netstrings.txt):
 * the payload's length in ASCII decimal, a colon, the payload, a comma.
 * Used by QMQP, SCGI and a few RPC protocols; easy to write by hand from any
 * language (`b"%d:%s," % (len(data), data)` in Python).
 *
 * ```text
 * INPUT (8 bytes)                       DECODED
 * +- len -+- : -+-- payload ---+- , -+
 * | 5     | :   | h e l l o    | ,   |  "hello"
 * +-------+-----+--------------+-----+
 *
 * INPUT (3 bytes)                       DECODED
 * +- len -+- : -+- , -+
 * | 0     | :   | ,   |                 "" (empty)
 * +-------+-----+-----+
 * ```
 *
 * An empty length (`:`), a length with a leading zero (`05:`, though `0:`
 * is fine), any other byte among the digits, or a missing comma is
 * `BAD_HEADER`. A length over `maxFrameBytes` is `FRAME_TOO_LARGE` as soon as
 * its digits show it, so an endless run of digits is never buffered.
 *
 * @module
 */

import { FrameError } from "../errors.ts";
import { BuiltinCodec, type DecodeState, type Framing, view } from "./types.ts";
import { frameLimit, payloadLength, tooLarge } from "./_limits.ts";

/** Options for {@linkcode netstring}. */
export interface NetstringOptions {
  /**
   * Largest payload accepted, in bytes; a length announcing more is
   * `FRAME_TOO_LARGE`.
   * @default {16777216}
   */
  maxFrameBytes?: number;
}

const ZERO = 0x30;
const COLON = 0x3a;
const COMMA = 0x2c;

/** `byte` as a printable character or a hex code, for error messages. */
function shown(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? JSON.stringify(String.fromCharCode(byte))
    : `0x${byte.toString(16).padStart(2, "0")}`;
}

class NetstringFraming extends BuiltinCodec<Uint8Array> {
  readonly #maxFrameBytes: number;

  constructor(options: NetstringOptions) {
    super();
    this.#maxFrameBytes = frameLimit(options);
  }

  measure(value: Uint8Array): number {
    const length = payloadLength(value, "frame", this.#maxFrameBytes);
    return String(length).length + length + 2;
  }

  write(value: Uint8Array, target: Uint8Array, offset: number): void {
    const digits = String(value.length);
    let at = offset;
    for (let i = 0; i < digits.length; i++) {
      target[at++] = digits.charCodeAt(i);
    }
    target[at++] = COLON;
    target.set(value, at);
    target[at + value.length] = COMMA;
  }

  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Uint8Array; next: number } | null {
    const size = bytes.length;
    const max = this.#maxFrameBytes;
    // Digits already checked on an earlier call: only their value is
    // recomputed (at most 16 of them: the limit is a safe integer).
    const scanned = state?.scanned ?? 0;
    let length = 0;
    let at = offset;
    for (; at < offset + scanned; at++) length = length * 10 + bytes[at] - ZERO;
    for (;; at++) {
      if (at === size) {
        if (state) state.scanned = at - offset;
        return null;
      }
      const byte = bytes[at];
      if (byte === COLON) break;
      const digit = byte - ZERO;
      if (digit < 0 || digit > 9) {
        throw new FrameError(
          "BAD_HEADER",
          `Cannot decode netstring: expected a digit or ":" in its length, got ${
            shown(byte)
          }`,
        );
      }
      if (at > offset && bytes[offset] === ZERO) {
        throw new FrameError(
          "BAD_HEADER",
          "Cannot decode netstring: its length has a leading zero",
        );
      }
      length = length * 10 + digit;
      if (length > max) {
        throw tooLarge(
          "decode netstring: its length announces at least",
          length,
          max,
        );
      }
    }
    if (at === offset) {
      throw new FrameError(
        "BAD_HEADER",
        'Cannot decode netstring: its length is empty (":" first)',
      );
    }
    const start = at + 1;
    const end = start + length;
    if (end >= size) {
      if (state) state.need = end + 1 - offset;
      return null;
    }
    if (bytes[end] !== COMMA) {
      throw new FrameError(
        "BAD_HEADER",
        `Cannot decode netstring: expected "," after its ${length}-byte payload, got ${
          shown(bytes[end])
        }`,
      );
    }
    return { value: view(bytes, start, end), next: end + 1 };
  }

  decodeMany(bytes: Uint8Array, offset: number, out: Uint8Array[]): number {
    const max = this.#maxFrameBytes;
    const size = bytes.length;
    // The view's arguments hoisted: one `.buffer` per call, not per frame.
    const buffer = bytes.buffer;
    const byteOffset = bytes.byteOffset;
    for (;;) {
      let at = offset;
      let length = 0;
      let digit = 0;
      while (at < size && (digit = bytes[at] - ZERO) >= 0 && digit <= 9) {
        length = length * 10 + digit;
        at++;
        if (length > max) return offset;
      }
      // Stop before anything but a well-formed length, ":" and room for all.
      const digits = at - offset;
      if (
        at >= size || bytes[at] !== COLON || digits === 0 ||
        (digits > 1 && bytes[offset] === ZERO)
      ) return offset;
      const start = at + 1;
      const end = start + length;
      if (end >= size || bytes[end] !== COMMA) return offset;
      out.push(new Uint8Array(buffer, byteOffset + start, length));
      offset = end + 1;
    }
  }
}

/**
 * A framing of netstrings: `5:hello,`. The value is the payload alone.
 *
 * @param options The largest payload accepted.
 * @returns A framing of `Uint8Array` payloads.
 * @throws {RangeError} `maxFrameBytes` is not a non-negative safe integer.
 *
 * @example Encoding and decoding
 * ```ts
 * import { FrameDecoder, netstring } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const framing = netstring();
 * const bytes = framing.encode(new TextEncoder().encode("hello"));
 * assertEquals(new TextDecoder().decode(bytes), "5:hello,");
 * const decoder = new FrameDecoder(framing);
 * const text = (b: Uint8Array) => new TextDecoder().decode(b);
 * assertEquals(decoder.push(bytes.subarray(0, 1)).map(text), []);
 * assertEquals(decoder.push(new TextEncoder().encode(":hello,0:,")).map(text), [
 *   "hello",
 *   "",
 * ]);
 * ```
 *
 * @example A hostile length is refused from its digits alone
 * ```ts
 * import { FrameError, netstring } from "@wire/socket";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const framing = netstring({ maxFrameBytes: 1000 });
 * const digits = new TextEncoder().encode("99999"); // no ":" yet
 * const error = assertThrows(() => framing.decode(digits, 0), FrameError);
 * assertEquals(error.code, "FRAME_TOO_LARGE");
 * ```
 */
export function netstring(
  options: NetstringOptions = {},
): Framing<Uint8Array> {
  return new NetstringFraming(options);
}
