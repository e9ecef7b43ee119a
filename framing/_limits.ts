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
 * The end of a FRAME_TOO_LARGE message for a 4-byte length that is over
 * `limit` as read, when read in the other byte order (`other`, what it
 * counts beyond the payload taken off) it is not: the classic mix-up of
 * Python's `struct.pack("i", n)` (native order, little-endian on x86 and
 * ARM) with network byte order. Empty when the other order does not fit
 * either.
 */
function byteOrderHint(
  other: number,
  littleEndian: boolean,
  limit: number,
): string {
  if (other < 0 || other > limit) return "";
  return littleEndian
    ? ` (read big-endian it would be ${other} bytes: does the peer use struct.pack("!i")?)`
    : ` (read little-endian it would be ${other} bytes: does the peer use struct.pack("i")?)`;
}

/** TLS record content types, by their first byte. */
const TLS_RECORDS: Record<number, string> = {
  0x14: "change_cipher_spec",
  0x15: "alert",
  0x16: "handshake",
  0x17: "application_data",
};

/** What an HTTP/1.x request or status line starts with. */
const HTTP_STARTS = [
  "HTTP/",
  "GET ",
  "POST ",
  "PUT ",
  "HEAD ",
  "DELETE ",
  "OPTIONS ",
  "PATCH ",
  "CONNECT ",
  "TRACE ",
].map((start) => [...start].map((char) => char.charCodeAt(0)));

/** `bytes[offset]` and on, `count` at most, as hex: "16 03 01". */
function hex(bytes: Uint8Array, offset: number, count: number): string {
  return [...bytes.subarray(offset, offset + count)]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join(" ");
}

/**
 * The end of a FrameError message for a header that reads as another
 * protocol: the start of a TLS record (a content type 0x14-0x17, then 0x03
 * and a minor version 0x00-0x04: `16 03 01` begins a ClientHello, `15 03 03`
 * an alert) or an HTTP/1.x request or status line (`GET `, `HTTP/`, ...).
 * These are the usual reasons a length header makes no sense: a plaintext
 * client of a TLS server (or the reverse), or a web browser or HTTP server
 * at the other end. Needs 2 bytes at `offset` for TLS and 4 for HTTP; uses
 * what there is beyond. Empty when the bytes read as neither.
 */
export function peerHint(bytes: Uint8Array, offset: number): string {
  const available = bytes.length - offset;
  if (available < 2) return "";
  const first = bytes[offset];
  const record = TLS_RECORDS[first];
  if (
    record !== undefined && bytes[offset + 1] === 0x03 &&
    (available < 3 || bytes[offset + 2] <= 0x04)
  ) {
    return ` (the bytes ${
      hex(bytes, offset, Math.min(available, 5))
    } look like a TLS ${record} record: the peer seems to speak TLS. Is the server a TLS one? connect with tls. A TLS client? listen with tls)`;
  }
  if (available < 4) return "";
  for (const start of HTTP_STARTS) {
    const count = Math.min(start.length, available);
    let matches = true;
    for (let i = 0; i < count && matches; i++) {
      matches = bytes[offset + i] === start[i];
    }
    if (matches) {
      return ` (the bytes look like HTTP, "${
        line(bytes, offset)
      }": the peer seems to speak HTTP, not this framing)`;
    }
  }
  return "";
}

/** The printable ASCII at `offset`, up to a line end, 40 characters at most. */
function line(bytes: Uint8Array, offset: number): string {
  let text = "";
  for (let i = offset; i < bytes.length && text.length < 40; i++) {
    const byte = bytes[i];
    if (byte < 0x20 || byte > 0x7e) break;
    text += String.fromCharCode(byte);
  }
  return text.length === 40 ? `${text}...` : text;
}

/**
 * The end of a FRAME_TOO_LARGE message for a 4-byte length at `offset`:
 * {@linkcode peerHint} when the bytes read as TLS or HTTP (read the other way
 * round they may well fit, and struct.pack("i") would then be the wrong
 * lead), else {@linkcode byteOrderHint}.
 */
export function lengthHint(
  bytes: Uint8Array,
  offset: number,
  littleEndian: boolean,
  limit: number,
  included = 0,
): string {
  const other = new DataView(bytes.buffer, bytes.byteOffset + offset, 4)
    .getUint32(0, !littleEndian) - included;
  return peerHint(bytes, offset) || byteOrderHint(other, littleEndian, limit);
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
