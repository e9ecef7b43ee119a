// Framing in tests: codecs of other people's protocols, checks of FrameErrors
// and the byte-order hint, payload patterns.

import {
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  type Framing,
  lengthField,
} from "../../framing.ts";
import {
  CODEC,
  type CodecFraming,
  codecOf,
  type DecodeState,
} from "../../framing/types.ts";
import {
  assertEquals,
  assertStringIncludes,
  assertThrows,
  concat,
} from "./assert.ts";
import { utf8 } from "./bytes.ts";

/**
 * Every value `framing` decodes from `input`, pushed into one decoder (a
 * chunk, or chunks one by one), then `end()`, which throws if a frame is left
 * incomplete.
 */
export function decodeAll<T>(
  framing: Framing<T>,
  input: Uint8Array | Uint8Array[],
): T[] {
  const decoder = new FrameDecoder(framing);
  const chunks = input instanceof Uint8Array ? [input] : input;
  const values = chunks.flatMap((chunk) => decoder.push(chunk));
  decoder.end();
  return values;
}

/** The payload both sides build for a length: bytes (7i + 1) mod 256. */
export function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + 1) % 256;
  return bytes;
}
export const POSTGRES = lengthField({
  offset: 1,
  headerBytes: 4,
  adjustment: -4,
});
export const MYSQL = lengthField({
  headerBytes: 3,
  littleEndian: true,
  adjustment: 1,
});

/** Asserts that `fn` throws a FrameError of `code` whose message has `part`. */
export function frameError(
  fn: () => unknown,
  code: FrameErrorCode,
  part: string,
): FrameError {
  const error = assertThrows(fn, FrameError);
  assertEquals(error.code, code, error.message);
  assertStringIncludes(error.message, part);
  return error;
}

// ---------------------------------------------------------------------------
// Limits before allocation, linear cost

/** A framing with `codec`'s fast paths whose decode calls and examined bytes are counted. */
export function counted(framing: Framing<Uint8Array>) {
  const codec = codecOf(framing)!;
  const counts = { calls: 0, examined: 0 };
  const wrapped: CodecFraming<Uint8Array> = {
    encode: (value) => framing.encode(value),
    decode: (bytes, offset) => framing.decode(bytes, offset),
    [CODEC]: {
      measure: (value) => codec.measure(value),
      write: (value, target, offset) => codec.write(value, target, offset),
      decode(bytes: Uint8Array, offset: number, state: DecodeState) {
        counts.calls++;
        counts.examined += bytes.length - offset - state.scanned;
        return codec.decode(bytes, offset, state);
      },
    },
  };
  return { framing: wrapped, counts };
}
/** Asserts `fn` throws a FrameError with `code`; returns it. */
export function assertFrameError(
  fn: () => unknown,
  code: FrameErrorCode,
): FrameError {
  const error: FrameError = assertThrows(fn, FrameError);
  assertEquals(error.code, code, error.message);
  assertEquals(error.name, "FrameError");
  return error;
}

/** A message wire frame with `json` as its header text, verbatim. */
export function rawMessage(
  json: string | Uint8Array,
  body: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const header = typeof json === "string" ? utf8(json) : json;
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, header.length);
  return concat([length, header, body]);
}
/** Asserts `fn` throws a FrameError with `code`; returns its message. */
export function frameErrorMessage(
  fn: () => unknown,
  code: FrameErrorCode,
): string {
  const error: FrameError = assertThrows(fn, FrameError);
  assertEquals(error.code, code, error.message);
  return error.message;
}

/** A 4-byte length in either byte order. */
export function u32(length: number, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, length, littleEndian);
  return bytes;
}

export const LE_HINT = (n: number) =>
  ` (read little-endian it would be ${n} bytes: does the peer use struct.pack("i")?)`;
export const BE_HINT = (n: number) =>
  ` (read big-endian it would be ${n} bytes: does the peer use struct.pack("!i")?)`;
