// The limits of the built-in codecs: their defaults, the checks of the
// options that set them, the check of a payload against one, and the
// FRAME_TOO_LARGE error that says which was passed.

import { FrameError } from "../errors.ts";
import { MiB } from "../bytes/sizes.ts";
import { checkBytes } from "./types.ts";

/** Default limits. */
export const DEFAULT_MAX_FRAME_BYTES: number = 16 * MiB;

/** Throws a RangeError unless `value` is a non-negative safe integer. */
export function checkLimit(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot create framing: ${name} must be a non-negative safe integer, got ${value}`,
    );
  }
  return value;
}

/**
 * The `maxFrameBytes` option, checked as {@linkcode checkLimit} does;
 * `fallback` when it is absent.
 */
export function frameLimit(
  options: { maxFrameBytes?: number },
  fallback: number = DEFAULT_MAX_FRAME_BYTES,
): number {
  return checkLimit("maxFrameBytes", options.maxFrameBytes ?? fallback);
}

/**
 * The length of `value`, a payload `measure` accepts. A TypeError naming
 * `what` unless it is a Uint8Array; FRAME_TOO_LARGE ("Cannot encode <what>:
 * … bytes, limit is …") when it is over `limit` bytes.
 */
export function payloadLength(
  value: unknown,
  what: string,
  limit: number,
): number {
  const length = checkBytes(value, what).length;
  if (length > limit) throw tooLarge(`encode ${what}`, length, limit);
  return length;
}

/**
 * The end of a FRAME_TOO_LARGE message for a 4-byte length at `offset` that
 * is over `limit` as read, when read in the other byte order it is not: the
 * classic mix-up of Python's `struct.pack("i", n)` (native order,
 * little-endian on x86 and ARM) with network byte order. `included` is what
 * the length counts beyond the payload. Empty when the other order does not
 * fit either.
 */
export function byteOrderHint(
  bytes: Uint8Array,
  offset: number,
  littleEndian: boolean,
  limit: number,
  included = 0,
): string {
  const other = new DataView(bytes.buffer, bytes.byteOffset + offset, 4)
    .getUint32(0, !littleEndian) - included;
  if (other < 0 || other > limit) return "";
  return littleEndian
    ? ` (read big-endian it would be ${other} bytes: does the peer use struct.pack("!i")?)`
    : ` (read little-endian it would be ${other} bytes: does the peer use struct.pack("i")?)`;
}

/** FRAME_TOO_LARGE for `size` bytes over `limit`; `hint` ends the message. */
export function tooLarge(
  what: string,
  size: number,
  limit: number,
  hint = "",
): FrameError {
  return new FrameError(
    "FRAME_TOO_LARGE",
    `Cannot ${what}: ${size} bytes, limit is ${limit}${hint}`,
  );
}
