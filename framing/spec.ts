// Framing specs: one short string names a codec and its options, as the
// command-line tool's --framing takes it.
//
//   raw                  every chunk as it arrives is a frame (no boundaries)
//   lines                ends with "\n"            crlf      ends with "\r\n"
//   length               4-byte big-endian length  length:2  length:4:le
//   varint               protobuf's delimited      netstring 5:hello,
//   message              the JSON-header message   message:le
//   field:1:4:-4         a length field inside a header (PostgreSQL)

import { delimited } from "./delimited.ts";
import { lengthField } from "./length_field.ts";
import { lengthPrefixed } from "./length_prefixed.ts";
import { message, type MessageFraming } from "./message.ts";
import { netstring } from "./netstring.ts";
import { checkBytes, type Framing, kindOf, view } from "./types.ts";
import { varintPrefixed } from "./varint.ts";

/** What {@linkcode parseFraming} returns: a byte framing, or `message`'s. */
export type ParsedFraming = Framing<Uint8Array> | MessageFraming;

/** The specs accepted, as error messages list them. */
const ACCEPTED =
  "raw, lines, crlf, length, length:N (N = 1, 2, 3, 4 or 8), length:N:le, " +
  "length:N:be, varint, netstring, message, message:le, " +
  "field:OFFSET:N[:ADJUSTMENT][:le]";

/** Every chunk is one frame: the bytes as they arrived, no boundaries added. */
const RAW: Framing<Uint8Array> = Object.freeze({
  encode: (value: Uint8Array) => checkBytes(value, "a raw frame"),
  decode: (bytes: Uint8Array, offset: number) =>
    offset < bytes.length
      ? { value: view(bytes, offset, bytes.length), next: bytes.length }
      : null,
});

const HEADER_BYTES = [1, 2, 3, 4, 8] as const;
type HeaderBytes = typeof HEADER_BYTES[number];

function bad(spec: string, why: string): TypeError {
  return new TypeError(
    `Cannot parse framing spec ${JSON.stringify(spec)}: ${why}; ` +
      `accepted: ${ACCEPTED}`,
  );
}

function headerBytes(spec: string, text: string): HeaderBytes {
  const n = Number(text);
  if (!/^\d$/.test(text) || !HEADER_BYTES.includes(n as HeaderBytes)) {
    throw bad(spec, `a length is 1, 2, 3, 4 or 8 bytes, got ${text}`);
  }
  return n as HeaderBytes;
}

function byteOrder(spec: string, text: string | undefined): boolean {
  if (text === undefined || text === "be") return false;
  if (text === "le") return true;
  throw bad(spec, `the byte order is le or be, got ${text}`);
}

/**
 * The framing a spec names: `raw`, `lines`, `crlf`, `length`, `length:2`,
 * `length:4:le`, `varint`, `netstring`, `message`, `message:le` or
 * `field:OFFSET:N[:ADJUSTMENT][:le]` (a {@linkcode lengthField}). Each codec
 * has its default limits. `raw` is not a codec of its own: it takes every
 * chunk as one frame, as it arrived.
 *
 * @param spec The spec, as the command-line tool's `--framing` takes it.
 * @returns The framing: a `Framing<Uint8Array>`, or a `MessageFraming` for
 * `message` (tell them apart by its `head`).
 * @throws {TypeError} The spec is not one of those, with the list of what is
 * accepted.
 *
 * @example Basic usage
 * ```ts
 * import { FrameDecoder, parseFraming } from "@wire/socket";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const framing = parseFraming("length:2:le");
 * if ("head" in framing) throw new Error("message's framing"); // narrows the type
 * const bytes = framing.encode(new TextEncoder().encode("hi"));
 * assertEquals([...bytes], [2, 0, 104, 105]);
 * assertEquals(new FrameDecoder(framing).push(bytes).length, 1);
 * assertThrows(() => parseFraming("length:5"), TypeError, "accepted: raw, lines");
 * ```
 */
export function parseFraming(spec: string): ParsedFraming {
  if (typeof spec !== "string") {
    throw new TypeError(
      `Cannot parse framing spec: expected a string, got ${kindOf(spec)}; ` +
        `accepted: ${ACCEPTED}`,
    );
  }
  const [name, ...rest] = spec.trim().toLowerCase().split(":");
  const none = (framing: ParsedFraming) => {
    if (rest.length > 0) throw bad(spec, `${name} takes no options`);
    return framing;
  };
  switch (name) {
    case "raw":
      return none(RAW);
    case "lines":
      return none(delimited());
    case "crlf":
      return none(delimited({ delimiter: "\r\n" }));
    case "varint":
      return none(varintPrefixed());
    case "netstring":
      return none(netstring());
    case "message":
      if (rest.length > 1) throw bad(spec, "message takes only a byte order");
      return message({ littleEndian: byteOrder(spec, rest[0]) });
    case "length": {
      if (rest.length > 2) throw bad(spec, "too many options for length");
      return lengthPrefixed({
        headerBytes: rest[0] === undefined ? 4 : headerBytes(spec, rest[0]),
        littleEndian: byteOrder(spec, rest[1]),
      });
    }
    case "field": {
      const order = rest.at(-1) === "le" || rest.at(-1) === "be"
        ? rest.pop()
        : undefined;
      if (rest.length < 2 || rest.length > 3) {
        throw bad(spec, "field takes OFFSET:N, then optionally ADJUSTMENT");
      }
      const [offset, adjustment = "0"] = [rest[0], rest[2]];
      if (!/^\d+$/.test(offset) || !/^-?\d+$/.test(adjustment)) {
        throw bad(spec, "OFFSET and ADJUSTMENT are whole numbers");
      }
      return lengthField({
        offset: Number(offset),
        headerBytes: headerBytes(spec, rest[1]),
        adjustment: Number(adjustment),
        littleEndian: byteOrder(spec, order),
      });
    }
    default:
      throw bad(spec, `unknown framing ${JSON.stringify(name)}`);
  }
}
