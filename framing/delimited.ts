/**
 * `delimited()`: values ended by a delimiter, text lines by default.
 *
 * `delimited()` (delimiter `"\n"`); the delimiter is not part of the value
 * and may be several bytes (`"\r\n"`), split across chunks:
 *
 * ```text
 * INPUT                                 DECODED
 * +-----------+----+-----+----+
 * | h i       | \n |     | \n |         "hi", ""
 * +-----------+----+-----+----+
 * ```
 *
 * `delimited({ trimCr: true })`: LF and CRLF lines alike, as HTTP, SMTP and
 * Redis peers send them (and people typing into `nc` or telnet); a `"\r"`
 * right before the `"\n"` goes with it, even when a chunk ends between them:
 *
 * ```text
 * INPUT                                       DECODED
 * +---------+----+----+---------+----+
 * | G E T   | \r | \n | P I N G | \n |         "GET", "PING"
 * +---------+----+----+---------+----+
 * ```
 *
 * A line longer than `maxFrameBytes` (1 MiB by default) is `FRAME_TOO_LARGE`
 * as soon as that many bytes are buffered without a delimiter (with
 * `trimCr`, the limit does not count the `"\r"` of a `"\r\n"`).
 *
 * @module
 */

import {
  BuiltinCodec,
  type DecodeState,
  type Framing,
  utf8Encoder,
  view,
} from "./types.ts";
import { MiB } from "../bytes/sizes.ts";
import { frameLimit, payloadLength, tooLarge } from "./_limits.ts";

/** Options for {@linkcode delimited}. */
export interface DelimitedOptions {
  /**
   * The bytes that end each value; a string is encoded as UTF-8.
   * @default {"\n"}
   */
  delimiter?: string | Uint8Array;
  /**
   * Longest value accepted, in bytes, delimiter excluded; more buffered
   * without a delimiter is `FRAME_TOO_LARGE` at once.
   * @default {1048576}
   */
  maxFrameBytes?: number;
  /**
   * With the delimiter `"\n"` only: a line ending `"\r\n"` loses its `"\r"`
   * too, so LF and CRLF peers both work. `encode` writes `"\n"` alone and
   * refuses a value ending in `"\r"` (it would not come back the same).
   * @default {false}
   */
  trimCr?: boolean;
  /**
   * Whether a last value without its delimiter, at the end of the stream,
   * is a value (as Python's `readline`, std's `TextLineStream` and tokio's
   * `LinesCodec` take it) rather than `INCOMPLETE_FRAME`. Its bytes are
   * taken as they are: a delimiter cut short stays in the value.
   * @default {false}
   */
  acceptUnterminated?: boolean;
}

/** Options for {@linkcode crlfLines}. */
export interface CrlfLinesOptions {
  /**
   * Longest line accepted, in bytes, line ending excluded; more buffered
   * without a line ending is `FRAME_TOO_LARGE` at once.
   * @default {1048576}
   */
  maxFrameBytes?: number;
  /**
   * Whether a last line without a line ending, at the end of the stream, is
   * a line rather than `INCOMPLETE_FRAME`.
   * @default {false}
   */
  acceptUnterminated?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const CRLF = new Uint8Array([CR, LF]);

/** Index of `needle` in `bytes[from, to)`, or -1. */
function indexOf(
  bytes: Uint8Array,
  needle: Uint8Array,
  from: number,
  to: number,
): number {
  const first = needle[0];
  const last = to - needle.length;
  for (let i = bytes.indexOf(first, from); i !== -1 && i <= last;) {
    let k = 1;
    while (k < needle.length && bytes[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
    i = bytes.indexOf(first, i + 1);
  }
  return -1;
}

/**
 * Whether `needle` may still begin at some index in `[from, last]` of `bytes`:
 * the bytes from there to the end are a prefix of `needle` cut short.
 */
function mayBegin(
  bytes: Uint8Array,
  needle: Uint8Array,
  from: number,
  last: number,
): boolean {
  for (
    let i = Math.max(from, bytes.length - needle.length + 1);
    i <= last;
    i++
  ) {
    let k = 0;
    while (i + k < bytes.length && bytes[i + k] === needle[k]) k++;
    if (i + k === bytes.length) return true;
  }
  return false;
}

/**
 * Where `needle` begins in `value` followed by `needle`, when that is before
 * the appended one (the end of `value` and the start of `needle` form it), or -1.
 */
function joinsEarly(value: Uint8Array, needle: Uint8Array): number {
  const length = value.length;
  for (let i = Math.max(0, length - needle.length + 1); i < length; i++) {
    let k = 0;
    while (
      k < needle.length &&
      (i + k < length ? value[i + k] : needle[i + k - length]) === needle[k]
    ) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

class DelimitedFraming extends BuiltinCodec<Uint8Array> {
  readonly #delimiter: Uint8Array;
  readonly #maxFrameBytes: number;
  readonly #trimCr: boolean;
  readonly #acceptUnterminated: boolean;
  /** What `write` puts after a value: the delimiter, or "\r\n" for crlfLines. */
  readonly #ending: Uint8Array;

  constructor(options: DelimitedOptions, crlf = false) {
    super();
    const delimiter = options.delimiter ?? "\n";
    this.#delimiter = typeof delimiter === "string"
      ? utf8Encoder.encode(delimiter)
      : delimiter.slice();
    if (this.#delimiter.length === 0) {
      throw new TypeError("Cannot create framing: the delimiter is empty");
    }
    this.#trimCr = options.trimCr ?? false;
    if (
      this.#trimCr &&
      (this.#delimiter.length !== 1 || this.#delimiter[0] !== LF)
    ) {
      throw new TypeError(
        'Cannot create framing: trimCr works with the delimiter "\\n" only',
      );
    }
    this.#maxFrameBytes = frameLimit(options, MiB);
    this.#acceptUnterminated = options.acceptUnterminated ?? false;
    this.#ending = crlf ? CRLF : this.#delimiter;
  }

  measure(value: Uint8Array): number {
    const length = payloadLength(value, "line", this.#maxFrameBytes);
    const at = indexOf(value, this.#delimiter, 0, length);
    if (at !== -1) {
      throw new TypeError(
        `Cannot encode line: the value contains the delimiter at index ${at}`,
      );
    }
    const early = joinsEarly(value, this.#delimiter);
    if (early !== -1) {
      throw new TypeError(
        `Cannot encode line: its end and the delimiter form a delimiter at index ${early}`,
      );
    }
    // crlfLines writes "\r\n", so a value's own last "\r" survives.
    if (this.#trimCr && value[length - 1] === CR && this.#ending !== CRLF) {
      throw new TypeError(
        'Cannot encode line: it ends in "\\r", which trimCr would take for part of its line ending',
      );
    }
    return length + this.#ending.length;
  }

  write(value: Uint8Array, target: Uint8Array, offset: number): void {
    target.set(value, offset);
    target.set(this.#ending, offset + value.length);
  }

  /** With `acceptUnterminated`: the bytes left are the last value. */
  decodeEnd(
    bytes: Uint8Array,
    offset: number,
  ): { value: Uint8Array; next: number } | null {
    if (!this.#acceptUnterminated || offset >= bytes.length) return null;
    const whole = this.decode(bytes, offset);
    if (whole !== null) return whole;
    const length = bytes.length - offset;
    // Under the limit unless a delimiter cut short let decode wait.
    if (length > this.#maxFrameBytes) {
      throw tooLarge(
        "decode line: the last line is",
        length,
        this.#maxFrameBytes,
      );
    }
    return { value: view(bytes, offset, bytes.length), next: bytes.length };
  }

  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Uint8Array; next: number } | null {
    if (this.#trimCr) return this.#decodeTrimCr(bytes, offset, state);
    const delimiterBytes = this.#delimiter.length;
    const max = this.#maxFrameBytes;
    // The delimiter must start within `max` bytes; look no further than that.
    const to = Math.min(bytes.length, offset + max + delimiterBytes);
    const at = indexOf(
      bytes,
      this.#delimiter,
      offset + (state?.scanned ?? 0),
      to,
    );
    if (at !== -1) {
      return { value: view(bytes, offset, at), next: at + delimiterBytes };
    }
    const buffered = bytes.length - offset;
    if (
      buffered >= max + delimiterBytes ||
      // Over the limit unless a delimiter cut short begins by `offset + max`.
      (buffered > max &&
        !mayBegin(bytes, this.#delimiter, offset, offset + max))
    ) {
      throw tooLarge(
        "decode line: no delimiter within the limit, buffered",
        buffered,
        max,
      );
    }
    // A delimiter may straddle the end: rescan its first bytes next time.
    if (state) state.scanned = Math.max(0, buffered - delimiterBytes + 1);
    return null;
  }

  /** `decode` for `trimCr`: up to `max` bytes, then `"\n"` or `"\r\n"`. */
  #decodeTrimCr(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Uint8Array; next: number } | null {
    const max = this.#maxFrameBytes;
    // The "\n" ends a line of `max` bytes at offset + max + 1 at the latest
    // (after its "\r"); found later, the line is over the limit.
    const at = bytes.indexOf(LF, offset + (state?.scanned ?? 0));
    if (at !== -1 && at <= offset + max + 1) {
      const end = at > offset && bytes[at - 1] === CR ? at - 1 : at;
      if (end - offset > max) {
        throw tooLarge("decode line: the line is", end - offset, max);
      }
      return { value: view(bytes, offset, end), next: at + 1 };
    }
    const buffered = bytes.length - offset;
    // Over the limit unless what is past it is the "\r" of a "\r\n".
    if (buffered > max + 1 || (buffered > max && bytes[offset + max] !== CR)) {
      throw tooLarge(
        "decode line: no delimiter within the limit, buffered",
        buffered,
        max,
      );
    }
    // Everything scanned is final: a "\r" before the "\n" is looked back at.
    if (state) state.scanned = buffered;
    return null;
  }
}

/**
 * A framing of values ended by a delimiter: text lines, by default. The
 * delimiter is not part of the value; an empty line is an empty value.
 *
 * @param options The delimiter and the longest value accepted.
 * @returns A framing of `Uint8Array` values.
 * @throws {TypeError} The delimiter is empty, or `trimCr` is set with a
 * delimiter other than `"\n"`.
 * @throws {RangeError} `maxFrameBytes` is not a non-negative safe integer.
 *
 * @example CRLF lines, the delimiter split across chunks
 * ```ts
 * import { delimited, FrameDecoder } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const decoder = new FrameDecoder(delimited({ delimiter: "\r\n" }));
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assertEquals(decoder.push(new TextEncoder().encode("PING\r")), []);
 * assertEquals(decoder.push(new TextEncoder().encode("\n\r\n")).map(text), ["PING", ""]);
 * ```
 *
 * @example LF and CRLF lines alike
 * ```ts
 * import { delimited, FrameDecoder } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const decoder = new FrameDecoder(delimited({ trimCr: true }));
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * const lines = decoder.push(new TextEncoder().encode("GET / HTTP/1.1\r\nPING\nSET\r"));
 * assertEquals(lines.map(text), ["GET / HTTP/1.1", "PING"]);
 * assertEquals(decoder.push(new TextEncoder().encode("\n")).map(text), ["SET"]);
 * ```
 *
 * @example A last line without its delimiter
 * ```ts
 * import { delimited, FrameDecoder } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const decoder = new FrameDecoder(delimited({ acceptUnterminated: true }));
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assertEquals(decoder.push(new TextEncoder().encode("one\ntwo")).map(text), ["one"]);
 * assertEquals(decoder.end().map(text), ["two"]);
 * ```
 */
export function delimited(options: DelimitedOptions = {}): Framing<Uint8Array> {
  return new DelimitedFraming(options);
}

/**
 * Lines written with `"\r\n"` and read with `"\r\n"` or a bare `"\n"`:
 * a CRLF protocol's lines (SMTP, Redis, HTTP/1.x headers), with RFC 9112
 * 2.2's tolerance of peers that end lines with LF alone. The line ending is
 * not part of the value. `encode` refuses a value holding `"\n"`.
 *
 * @param options The longest line accepted; whether a last line without a
 * line ending is a line.
 * @returns A framing of `Uint8Array` values.
 * @throws {RangeError} `maxFrameBytes` is not a non-negative safe integer.
 *
 * @example Writes CRLF, reads CRLF and LF
 * ```ts
 * import { crlfLines, FrameDecoder } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const lines = crlfLines();
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assertEquals(text(lines.encode(new TextEncoder().encode("PING"))), "PING\r\n");
 * const decoder = new FrameDecoder(lines);
 * const got = decoder.push(new TextEncoder().encode("+OK\r\n+PONG\n"));
 * assertEquals(got.map(text), ["+OK", "+PONG"]);
 * ```
 *
 * @example A last line without its line ending
 * ```ts
 * import { crlfLines, FrameDecoder } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const decoder = new FrameDecoder(crlfLines({ acceptUnterminated: true }));
 * assertEquals(decoder.push(new TextEncoder().encode("a\r\nb")).length, 1);
 * assertEquals(decoder.end().map((line) => new TextDecoder().decode(line)), ["b"]);
 * ```
 */
export function crlfLines(options: CrlfLinesOptions = {}): Framing<Uint8Array> {
  return new DelimitedFraming({
    delimiter: "\n",
    trimCr: true,
    maxFrameBytes: options.maxFrameBytes,
    acceptUnterminated: options.acceptUnterminated,
  }, true);
}
