// The fuzzing driver shared by tests/framing/fuzz_test.ts (short and bounded) and
// bench/fuzz.ts (long runs): a seeded PRNG, generators of valid streams,
// mutators, and the checks every decode must pass.
//
// Each case is built from one 32-bit case seed, so a failure names the seed
// that reproduces it: `deno task fuzz --replay 0x1234abcd`.
//
// What is checked, for every framing (lengthPrefixed in all widths and byte
// orders, delimited, message, message().head, lengthField, varintPrefixed,
// netstring, delimited with trimCr) and every stream:
// - `push` returns values or throws FrameError FRAME_TOO_LARGE / BAD_HEADER;
//   nothing else escapes (no RangeError, TypeError, stack overflow);
// - after a FrameError every further `push` and `end` throws the same error;
// - `end()` throws INCOMPLETE_FRAME exactly when bytes are buffered;
// - `buffered` stays under a bound derived from the limits;
// - every chunking (one chunk, 1-byte chunks, random, with empty chunks)
//   gives the values and error code of a stateless `decode` loop over the
//   whole stream, and so does `DecoderStream`;
// - values handed out are never overwritten, and the decoder keeps no
//   reference to a chunk it was given (chunks are scribbled over after push);
// - Object.prototype is never touched.

import { concat } from "./assert.ts";
import { MiB, utf8 } from "./bytes.ts";
import { caseSeed, hex32, Rng } from "./random.ts";
import {
  DecoderStream,
  delimited,
  type DelimitedOptions,
  EncoderStream,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  type Framing,
  lengthField,
  type LengthFieldOptions,
  lengthPrefixed,
  type LengthPrefixOptions,
  type Message,
  message,
  type MessageOptions,
  netstring,
  varintPrefixed,
} from "../../framing.ts";
import { ReadBuffer } from "../../bytes/read_buffer.ts";
import { codecOf } from "../../framing/types.ts";
import { DecodeDriver } from "../../framing/decoder.ts";

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------
// PRNG: tests/_helpers/random.ts, re-exported for framing/fuzz_test.ts and bench/

export {
  caseSeed,
  hex32,
  mix32,
  parseSeed,
  randomSeed,
  Rng,
} from "./random.ts";

// ---------------------------------------------------------------------------
// Framings under test

/**
 * The framings fuzzed. `head` is `message().head`, `varint` is
 * `varintPrefixed()`, `crlf` is `delimited({ trimCr: true })`.
 */
export type Kind =
  | "lengthPrefixed"
  | "delimited"
  | "message"
  | "head"
  | "lengthField"
  | "varint"
  | "netstring"
  | "crlf";

/** Options of any fuzzed framing. */
type AnyOptions =
  | LengthPrefixOptions
  | DelimitedOptions
  | MessageOptions
  | LengthFieldOptions;

/** One framing and what the checks need to know about it. */
export interface Config {
  kind: Kind;
  options: AnyOptions;
  framing: Framing<unknown>;
  /** Width of the length at a frame's start (0 for delimited). */
  headerBytes: number;
  /** Bytes before the length field (lengthField's `offset`; else 0). */
  fieldOffset: number;
  littleEndian: boolean;
  /** Largest payload (lengthPrefixed, delimited), header (message, head). */
  limit: number;
  /** Largest body (message). */
  bodyLimit: number;
  /** The delimiter (delimited). */
  delimiter: Uint8Array;
  /** Largest whole frame: a partial frame left buffered is shorter. */
  frameBound: number;
  /** The options, printable. */
  describe: string;
}

function describeOptions(kind: Kind, options: object): string {
  return `${kind}(${
    JSON.stringify(
      options,
      (_key, value) =>
        value instanceof Uint8Array ? `bytes[${[...value]}]` : value,
    )
  })`;
}

/** A {@linkcode Config} for `kind` built with `options`. */
export function makeConfig(
  kind: Kind,
  options: AnyOptions = {},
): Config {
  const describe = describeOptions(kind, options);
  if (kind === "lengthField") {
    const o = options as LengthFieldOptions;
    const fieldOffset = o.offset ?? 0;
    const headerBytes = o.headerBytes ?? 4;
    const limit = o.maxFrameBytes ?? 16 * MiB;
    return {
      kind,
      options,
      framing: lengthField(o) as Framing<unknown>,
      headerBytes,
      fieldOffset,
      littleEndian: o.littleEndian ?? false,
      limit,
      bodyLimit: 0,
      delimiter: new Uint8Array(0),
      // A value is a whole frame; a header alone may be longer than `limit`.
      frameBound: Math.max(limit, fieldOffset + headerBytes),
      describe,
    };
  }
  if (kind === "varint" || kind === "netstring") {
    const limit = (options as { maxFrameBytes?: number }).maxFrameBytes ??
      16 * MiB;
    return {
      kind,
      options,
      framing: (kind === "varint" ? varintPrefixed : netstring)(
        options as { maxFrameBytes?: number },
      ) as Framing<unknown>,
      headerBytes: 1,
      fieldOffset: 0,
      littleEndian: false,
      limit,
      bodyLimit: 0,
      delimiter: new Uint8Array(0),
      // At most 10 varint bytes; as many digits as the limit has, ":" and ",".
      frameBound: limit + (kind === "varint" ? 10 : String(limit).length + 2),
      describe,
    };
  }
  if (kind === "lengthPrefixed") {
    const o = options as LengthPrefixOptions;
    const headerBytes = o.headerBytes ?? 4;
    const headerMax = headerBytes === 8 ? MAX_SAFE : 2 ** (8 * headerBytes) - 1;
    const limit = Math.min(
      o.maxFrameBytes ?? 16 * MiB,
      headerMax - (o.lengthIncludesHeader ? headerBytes : 0),
    );
    return {
      kind,
      options,
      framing: lengthPrefixed(o) as Framing<unknown>,
      headerBytes,
      fieldOffset: 0,
      littleEndian: o.littleEndian ?? false,
      limit,
      bodyLimit: 0,
      delimiter: new Uint8Array(0),
      frameBound: headerBytes + limit,
      describe,
    };
  }
  if (kind === "delimited" || kind === "crlf") {
    const o = kind === "crlf"
      ? { ...options as DelimitedOptions, trimCr: true }
      : options as DelimitedOptions;
    const d = o.delimiter ?? "\n";
    const delimiter = typeof d === "string" ? utf8(d) : d.slice();
    const limit = o.maxFrameBytes ?? MiB;
    return {
      kind,
      options,
      framing: delimited(o) as Framing<unknown>,
      headerBytes: 0,
      fieldOffset: 0,
      littleEndian: false,
      limit,
      bodyLimit: 0,
      delimiter,
      // With trimCr a line of `limit` bytes may wait with its "\r".
      frameBound: limit + delimiter.length + (o.trimCr ? 1 : 0),
      describe,
    };
  }
  const o = options as MessageOptions;
  const framing = message(o);
  const limit = o.maxHeaderBytes ?? 64 * 1024;
  const bodyLimit = o.maxBodyBytes ?? 16 * MiB;
  return {
    kind,
    options,
    framing: (kind === "message" ? framing : framing.head) as Framing<unknown>,
    headerBytes: 4,
    fieldOffset: 0,
    littleEndian: o.littleEndian ?? false,
    limit,
    bodyLimit,
    delimiter: new Uint8Array(0),
    frameBound: 4 + limit + (kind === "message" ? bodyLimit : 0),
    describe,
  };
}

const DELIMITERS: readonly (string | Uint8Array)[] = [
  "\n",
  "\r\n",
  "\r\n\r\n",
  "aa",
  "aba",
  "€",
  new Uint8Array([0]),
  new Uint8Array([0xff, 0xfe]),
  new Uint8Array([0, 0, 0]),
];

/** Every kind, weighted: the default of {@linkcode randomConfig}. */
export const KINDS: readonly Kind[] = [
  "lengthPrefixed",
  "lengthPrefixed",
  "delimited",
  "message",
  "message",
  "head",
  "lengthField",
  "varint",
  "netstring",
  "crlf",
];

/** A random framing of one of `kinds` with random (valid) options. */
export function randomConfig(rng: Rng, kinds: readonly Kind[] = KINDS): Config {
  const kind = rng.pick<Kind>(kinds);
  if (kind === "lengthField") {
    const headerBytes = rng.pick([1, 2, 3, 4, 8] as const);
    const offset = rng.pick([0, 0, 1, 2, 5]);
    const options: LengthFieldOptions = {
      offset,
      headerBytes,
      littleEndian: rng.chance(0.5),
      // Counting the field itself, the whole frame, a trailer, or nonsense.
      adjustment: rng.pick([0, 0, -headerBytes, -offset - headerBytes, 1, 3]),
    };
    if (rng.chance(0.1)) options.adjustment = rng.range(-20, 20);
    const max = rng.pick([undefined, 0, 3, 6, 16, 255, 1000, 65536, MAX_SAFE]);
    if (max !== undefined) options.maxFrameBytes = max;
    return makeConfig(kind, options);
  }
  if (kind === "varint" || kind === "netstring") {
    const max = rng.pick([
      undefined,
      0,
      1,
      9,
      10,
      127,
      128,
      300,
      16384,
      2 ** 32,
      MAX_SAFE,
    ]);
    return makeConfig(kind, max === undefined ? {} : { maxFrameBytes: max });
  }
  if (kind === "crlf") {
    const options: DelimitedOptions = {};
    if (rng.chance(0.3)) {
      options.delimiter = rng.pick(["\n", utf8("\n")]);
    }
    // The default (1 MiB) rarely: an overlong line then costs 1 MiB a chunking.
    const max = rng.chance(0.03)
      ? undefined
      : rng.pick([0, 1, 2, 3, 16, 100, 1000, 4096]);
    if (max !== undefined) options.maxFrameBytes = max;
    return makeConfig(kind, options);
  }
  if (kind === "lengthPrefixed") {
    const options: LengthPrefixOptions = {
      headerBytes: rng.pick([1, 2, 3, 4, 8] as const),
      littleEndian: rng.chance(0.5),
    };
    if (rng.chance(0.3)) options.lengthIncludesHeader = true;
    const max = rng.pick([
      undefined,
      0,
      1,
      5,
      255,
      256,
      1000,
      65535,
      65536,
      2 ** 32 - 1,
      MAX_SAFE,
    ]);
    if (max !== undefined) options.maxFrameBytes = max;
    return makeConfig(kind, options);
  }
  if (kind === "delimited") {
    const options: DelimitedOptions = {};
    if (rng.chance(0.85)) {
      options.delimiter = rng.chance(0.8)
        ? rng.pick(DELIMITERS)
        : rng.bytes(rng.range(1, 4), new Uint8Array([0x0a, 0x0d, 0x61, 0]));
    }
    const max = rng.pick([undefined, 0, 1, 3, 16, 100, 1000, 4096]);
    if (max !== undefined) options.maxFrameBytes = max;
    return makeConfig(kind, options);
  }
  const options: MessageOptions = { littleEndian: rng.chance(0.5) };
  const maxHeader = rng.pick([undefined, 0, 2, 12, 64, 1000, 16 * MiB]);
  if (maxHeader !== undefined) options.maxHeaderBytes = maxHeader;
  const maxBody = rng.pick([undefined, 0, 1, 10, 1000, MAX_SAFE]);
  if (maxBody !== undefined) options.maxBodyBytes = maxBody;
  return makeConfig(kind, options);
}

// ---------------------------------------------------------------------------
// Values and valid streams

const KEYS = [
  "name",
  "size",
  "size",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "type",
  "é",
  "",
  "a b",
  "\u0000",
  "\ud800",
  "😀",
];

function randomString(rng: Rng): string {
  const pieces = ["a", "Z", " ", '"', "\\", "\n", "\u0000", "é", "€", "😀"];
  pieces.push("\ud800", "\udfff", "</", "{", "}", "[", "]", ":", ",");
  let s = "";
  for (let n = rng.length(24); n > 0; n--) s += rng.pick(pieces);
  return s;
}

/** A random JSON value (no `undefined`, functions or cycles). */
export function randomJson(rng: Rng, depth: number): unknown {
  const r = rng.int(depth > 0 ? 10 : 7);
  switch (r) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -0, 1, -1, 1.5, 1e300, -1e-300, 2 ** 53, MAX_SAFE]);
    case 3:
      return rng.range(-1000, 1000);
    case 4:
    case 5:
    case 6:
      return randomString(rng);
    case 7:
    case 8: {
      const array: unknown[] = [];
      for (let n = rng.int(4); n > 0; n--) {
        array.push(randomJson(rng, depth - 1));
      }
      return array;
    }
    default:
      return randomObject(rng, depth - 1);
  }
}

/** A random object; `__proto__` and friends become own data properties. */
export function randomObject(
  rng: Rng,
  depth: number,
): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let n = rng.int(5); n > 0; n--) {
    Object.defineProperty(object, rng.pick(KEYS), {
      value: randomJson(rng, depth),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/** A random value for `config.framing.encode` (maybe one it rejects). */
function randomValue(rng: Rng, config: Config): unknown {
  switch (config.kind) {
    case "lengthPrefixed":
    case "varint":
    case "netstring":
      return rng.bytes(rng.length(config.limit));
    case "lengthField": // A whole frame: its length field is filled in.
      return rng.bytes(rng.length(config.limit), new Uint8Array([0, 1, 255]));
    case "crlf":
      return rng.bytes(
        rng.length(config.limit),
        new Uint8Array([0x0d, 0x0a, 0x41]),
      );
    case "delimited": {
      // Draw from the delimiter's bytes and a few others: near misses.
      const alphabet = new Uint8Array([...config.delimiter, 0x41, 0x0a, 0]);
      return rng.bytes(rng.length(config.limit), alphabet);
    }
    case "message":
      return {
        header: randomObject(rng, 3),
        body: rng.bytes(rng.length(Math.min(config.bodyLimit, 4096))),
      } satisfies Message;
    case "head": {
      const header = randomObject(rng, 3);
      header.size = rng.pick([0, 1, 7, 4096, 2 ** 32, MAX_SAFE]);
      return header;
    }
  }
}

// The npm build of @std/bytes ships no types.

/** A valid encoded stream, with where each frame starts. */
export interface Seed {
  bytes: Uint8Array;
  starts: number[];
}

/** Encodes a few random values with `config.framing`. */
export function validStream(rng: Rng, config: Config): Seed {
  const parts: Uint8Array[] = [];
  const starts: number[] = [];
  let at = 0;
  for (let n = rng.pick([0, 1, 1, 2, 3, 5, 8, 20]); n > 0; n--) {
    let frame: Uint8Array;
    try {
      frame = config.framing.encode(randomValue(rng, config));
    } catch (error) {
      // Values the framing cannot say; encode fuzzing checks these.
      if (error instanceof FrameError || error instanceof TypeError) continue;
      throw error;
    }
    starts.push(at);
    parts.push(frame);
    at += frame.length;
  }
  return { bytes: concat(parts), starts };
}

// ---------------------------------------------------------------------------
// Mutations

/** Writes `value` as a `width`-byte unsigned integer (modulo 2^(8·width)). */
export function writeUint(
  bytes: Uint8Array,
  at: number,
  width: number,
  littleEndian: boolean,
  value: bigint,
): void {
  let rest = BigInt.asUintN(8 * width, value);
  for (let k = 0; k < width; k++) {
    const index = littleEndian ? at + k : at + width - 1 - k;
    if (index >= 0 && index < bytes.length) bytes[index] = Number(rest & 255n);
    rest >>= 8n;
  }
}

/** The bytes of a length (4 bytes, message) plus JSON header plus body. */
export function messageFrame(
  json: string | Uint8Array,
  body: Uint8Array = new Uint8Array(0),
  littleEndian = false,
  announced?: number,
): Uint8Array {
  const jsonBytes = typeof json === "string" ? utf8(json) : json;
  const out = new Uint8Array(4 + jsonBytes.length + body.length);
  writeUint(
    out,
    0,
    4,
    littleEndian,
    BigInt(announced ?? jsonBytes.length),
  );
  out.set(jsonBytes, 4);
  out.set(body, 4 + jsonBytes.length);
  return out;
}

/** `depth` levels of `open`, then `middle`, then the closers (maybe not). */
export function nested(
  depth: number,
  open: string,
  close: string,
  middle = "",
): string {
  return open.repeat(depth) + middle + close.repeat(depth);
}

/** JSON headers (and not-JSON ones) a hostile or broken peer may send. */
export const EVIL_HEADERS: readonly string[] = [
  "",
  " ",
  "{",
  "}",
  "{}",
  "[]",
  "[1,2]",
  '[{"size":0}]',
  "0",
  "5",
  "-1",
  "1e300",
  '"5"',
  '"{\\"size\\":0}"',
  "null",
  "true",
  "false",
  '{"size":-1}',
  '{"size":1e300}',
  '{"size":"5"}',
  '{"size":1.5}',
  '{"size":9007199254740992}',
  '{"size":9007199254740991}',
  '{"size":1e400}',
  '{"size":-1e400}',
  '{"size":NaN}',
  '{"size":Infinity}',
  '{"size":null}',
  '{"size":true}',
  '{"size":[1]}',
  '{"size":{}}',
  '{"size":-0}',
  '{"size":0e5}',
  '{"size":1E1}',
  '{"size":0x10}',
  '{"size":1,"size":2}',
  '{"size":0,"size":"x"}',
  '{"size":"x","size":0}',
  '{"__proto__":{"size":1}}',
  '{"__proto__":{"polluted":true},"size":0}',
  '{"constructor":{"prototype":{"polluted":true}},"size":0}',
  '{"size":0,"__proto__":null}',
  '{"size":0,"toString":1,"valueOf":2,"hasOwnProperty":3}',
  '\uFEFF{"size":0}',
  '{"size":0}\u0000',
  '{"size":0} ',
  '{"size":0}{"size":0}',
  '{"size":0,}',
  "{'size':0}",
  '{"size":0,"a":"\ud800"}',
  '{"size":0,"a":"\\ud800"}',
  nested(64, "[", "]"),
  nested(64, '{"a":', "}", "0"),
  '{"size":' + nested(64, "[", "]") + "}",
  '{"size":0,"a":' + nested(64, "[", "]") + "}",
];

const INVALID_UTF8: readonly Uint8Array[] = [
  new Uint8Array([0xff]),
  new Uint8Array([0xc0, 0x80]),
  new Uint8Array([0xe2, 0x82]),
  concat([
    utf8('{"size":0,"a":"'),
    new Uint8Array([0xed, 0xa0, 0x80]),
    utf8('"}'),
  ]),
  concat([utf8('{"size":0,"a":"'), new Uint8Array([0xf8, 0x88])]),
  concat([utf8('{"size":0}'), new Uint8Array([0x80])]),
];

/** A message frame whose header is hostile, maybe with a body after it. */
export function evilMessageFrame(rng: Rng, littleEndian: boolean): Uint8Array {
  let json: Uint8Array;
  const r = rng.float();
  if (r < 0.12) {
    json = rng.pick(INVALID_UTF8);
  } else if (r < 0.2) {
    const depth = rng.range(1, 3000);
    json = utf8(
      rng.pick([
        nested(depth, "[", "]"),
        nested(depth, "[", ""),
        nested(depth, '{"a":', "}", "0"),
        '{"size":0,"a":' + nested(depth, "[", "]") + "}",
        '{"size":' + nested(depth, "[", "]") + "}",
      ]),
    );
  } else {
    json = utf8(rng.pick(EVIL_HEADERS));
  }
  // Follow a parseable size with a body of that size, sometimes.
  let body: Uint8Array = new Uint8Array(0);
  try {
    const size = JSON.parse(new TextDecoder().decode(json))?.size;
    if (Number.isSafeInteger(size) && size >= 0 && size <= 4096) {
      body = rng.bytes(rng.chance(0.8) ? size : rng.int(size + 2));
    }
  } catch {
    // Not JSON: no body.
  }
  const announced = rng.chance(0.9)
    ? json.length
    : Math.max(0, json.length + rng.range(-3, 3));
  return messageFrame(json, body, littleEndian, announced);
}

function overlongLength(rng: Rng, config: Config): bigint {
  const width = config.headerBytes;
  const candidates = [
    BigInt(config.limit) + 1n,
    BigInt(config.limit) + BigInt(rng.range(2, 1000)),
    2n ** BigInt(8 * width) - 1n,
    2n ** BigInt(8 * width - 1),
  ];
  if (width === 8) {
    candidates.push(2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n);
    candidates.push(2n ** 53n + 1n, 2n ** 63n);
  }
  return rng.pick(candidates);
}

/** `n` as an unsigned LEB128 varint. */
export function varintOf(n: bigint): Uint8Array {
  const out: number[] = [];
  do {
    const bits = Number(n & 127n);
    n >>= 7n;
    out.push(n > 0n ? bits | 128 : bits);
  } while (n > 0n);
  return new Uint8Array(out);
}

function insertAt(
  bytes: Uint8Array,
  at: number,
  piece: Uint8Array,
): Uint8Array {
  return concat([bytes.subarray(0, at), piece, bytes.subarray(at)]);
}

type Mutation = (rng: Rng, config: Config, seed: Seed) => Uint8Array;

/** A frame start (from the seed, clamped) or a random position. */
function somewhere(rng: Rng, seed: Seed): number {
  const { bytes, starts } = seed;
  if (starts.length > 0 && rng.chance(0.8)) {
    return Math.min(rng.pick(starts), bytes.length);
  }
  return rng.int(bytes.length + 1);
}

const MUTATIONS: Record<string, Mutation> = {
  flip(rng, _config, { bytes }) {
    if (bytes.length === 0) return bytes;
    for (let n = rng.range(1, 8); n > 0; n--) {
      bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
    }
    return bytes;
  },
  insert(rng, _config, seed) {
    return insertAt(
      seed.bytes,
      rng.int(seed.bytes.length + 1),
      rng.bytes(
        rng.range(1, 16),
      ),
    );
  },
  delete(rng, _config, { bytes }) {
    const at = rng.int(bytes.length + 1);
    const end = Math.min(bytes.length, at + rng.range(1, 16));
    return concat([bytes.subarray(0, at), bytes.subarray(end)]);
  },
  truncate(rng, _config, { bytes }) {
    return bytes.slice(0, rng.int(bytes.length + 1));
  },
  headerFF(rng, config, seed) {
    const at = somewhere(rng, seed);
    const width = config.headerBytes || rng.range(1, 8);
    for (let k = 0; k < width && at + k < seed.bytes.length; k++) {
      seed.bytes[at + k] = 0xff;
    }
    return seed.bytes;
  },
  headerZero(rng, config, seed) {
    const at = somewhere(rng, seed);
    writeUint(seed.bytes, at, config.headerBytes || 1, false, 0n);
    return seed.bytes;
  },
  overlong(rng, config, seed) {
    if (config.headerBytes === 0) {
      // Delimited: a run with no delimiter longer than the limit.
      const run = new Uint8Array(config.limit + rng.range(1, 8)).fill(0x41);
      return insertAt(seed.bytes, somewhere(rng, seed), run);
    }
    if (config.kind === "varint" || config.kind === "netstring") {
      // A length over the limit, past 2^53, or a header that never ends.
      const n = rng.chance(0.8)
        ? overlongLength(rng, config)
        : rng.pick([2n ** 53n, 2n ** 64n - 1n, 10n ** 30n]);
      const header = rng.chance(0.15)
        ? new Uint8Array(rng.range(10, 40)).fill(
          config.kind === "varint" ? rng.pick([0x80, 0xff]) : 0x39,
        )
        : config.kind === "varint"
        ? varintOf(n)
        : utf8(`${n}:`);
      return insertAt(seed.bytes, somewhere(rng, seed), header);
    }
    const header = new Uint8Array(config.fieldOffset + config.headerBytes);
    writeUint(
      header,
      config.fieldOffset,
      config.headerBytes,
      config.littleEndian,
      overlongLength(rng, config),
    );
    const at = somewhere(rng, seed);
    if (rng.chance(0.5)) return insertAt(seed.bytes, at, header);
    seed.bytes.set(header.subarray(0, seed.bytes.length - at), at);
    return seed.bytes;
  },
  duplicate(rng, _config, { bytes }) {
    const from = rng.int(bytes.length + 1);
    const span = bytes.slice(from, from + rng.range(1, 64));
    return insertAt(bytes, rng.int(bytes.length + 1), span);
  },
  random(rng) {
    return rng.bytes(rng.pick([0, 1, 3, 8, 64, 256, 2048]));
  },
  appendRandom(rng, _config, { bytes }) {
    return concat([bytes, rng.bytes(rng.range(1, 32))]);
  },
  evilHeader(rng, config, seed) {
    let frame: Uint8Array;
    if (config.kind === "message" || config.kind === "head") {
      frame = evilMessageFrame(rng, config.littleEndian);
    } else if (config.kind === "delimited") {
      frame = concat([rng.bytes(rng.length(64)), config.delimiter]);
    } else {
      frame = new Uint8Array(config.headerBytes + rng.int(32));
      writeUint(
        frame,
        0,
        config.headerBytes,
        config.littleEndian,
        BigInt(rng.int(64)),
      );
    }
    return insertAt(seed.bytes, somewhere(rng, seed), frame);
  },
  removeDelimiter(rng, config, { bytes }) {
    const d = config.delimiter;
    if (d.length === 0 || bytes.length < d.length) return bytes;
    const at = bytes.indexOf(d[0], rng.int(bytes.length));
    if (at === -1) return bytes;
    return concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  },
};

const MUTATION_NAMES = Object.keys(MUTATIONS);

/** Applies 0–3 random mutations to a copy of `seed`. */
export function mutate(
  rng: Rng,
  config: Config,
  seed: Seed,
): { bytes: Uint8Array; applied: string[] } {
  const applied: string[] = [];
  let bytes: Uint8Array = seed.bytes.slice();
  for (let n = rng.pick([0, 1, 1, 1, 2, 3]); n > 0; n--) {
    const name = rng.pick(MUTATION_NAMES);
    applied.push(name);
    bytes = MUTATIONS[name](rng, config, { bytes, starts: seed.starts });
  }
  return { bytes, applied };
}

// ---------------------------------------------------------------------------
// Chunkings

/** One way of splitting a stream: the chunk lengths, in order. */
export interface Chunking {
  name: string;
  sizes: number[];
}

/** Chunk lengths in [min, max] summing to `length` (0 allowed if min is 0). */
function randomSizes(
  rng: Rng,
  length: number,
  min: number,
  max: number,
): number[] {
  const sizes: number[] = [];
  for (let left = length; left > 0;) {
    const size = Math.min(left, rng.range(min, max));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** One chunk, 1-byte chunks, random chunks, and splits in two. */
export function chunkings(rng: Rng, length: number): Chunking[] {
  const out: Chunking[] = [{ name: "one chunk", sizes: [length] }];
  if (length > 1 && length <= 1 << 17) {
    out.push({ name: "1-byte chunks", sizes: new Array(length).fill(1) });
  }
  const max = rng.pick([2, 3, 7, 16, 100, 4096]);
  out.push({
    name: `random chunks ≤ ${max}`,
    sizes: randomSizes(rng, length, 1, max),
  });
  out.push({
    name: "random chunks with empty ones",
    sizes: [0, ...randomSizes(rng, length, 0, rng.pick([2, 5, 50])), 0],
  });
  if (length > 1) {
    const positions = length <= 48
      ? Array.from({ length: length - 1 }, (_, i) => i + 1)
      : [1, length - 1, rng.range(1, length - 1)];
    for (const at of positions) {
      out.push({ name: `split at ${at}`, sizes: [at, length - at] });
    }
  }
  return out;
}

/** `length` bytes in chunks of `size` (the last one shorter). */
export function evenChunks(length: number, size: number): Chunking {
  const sizes: number[] = [];
  for (let left = length; left > 0; left -= size) {
    sizes.push(Math.min(size, left));
  }
  return { name: `${size}-byte chunks`, sizes };
}

function cut(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

// ---------------------------------------------------------------------------
// Checks

/** A check failed: the message says which. */
export class FuzzFailure extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FuzzFailure";
  }
}

function fail(message: string, cause?: unknown): never {
  throw new FuzzFailure(message, cause === undefined ? undefined : { cause });
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${code === undefined ? "" : `(${code})`}: ${
      error.message.slice(0, 200)
    }`;
  }
  return `non-Error thrown: ${String(error)}`;
}

/** Fails unless `error` is a FrameError with one of `codes`. */
export function expectFrameError(
  error: unknown,
  codes: readonly FrameErrorCode[],
  where: string,
): FrameError {
  if (!(error instanceof FrameError)) {
    fail(`${where}: expected a FrameError, got ${describeError(error)}`, error);
  }
  if (!codes.includes(error.code)) {
    fail(`${where}: unexpected code ${describeError(error)}`, error);
  }
  if (error.name !== "FrameError" || error.message.length === 0) {
    fail(`${where}: FrameError without a name or message`, error);
  }
  return error;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fingerprint(header: Record<string, unknown>): string {
  return JSON.stringify(header);
}

/** Whether two decoded values are the same value. */
export function sameValue(config: Config, a: unknown, b: unknown): boolean {
  switch (config.kind) {
    case "lengthPrefixed":
    case "delimited":
    case "lengthField":
    case "varint":
    case "netstring":
    case "crlf":
      return sameBytes(a as Uint8Array, b as Uint8Array);
    case "message": {
      const x = a as Message;
      const y = b as Message;
      return sameBytes(x.body, y.body) &&
        fingerprint(x.header) === fingerprint(y.header);
    }
    case "head":
      return fingerprint(a as Record<string, unknown>) ===
        fingerprint(b as Record<string, unknown>);
  }
}

/** Fails unless `value` is a value `config.framing` may return. */
function checkValue(config: Config, value: unknown, where: string): void {
  switch (config.kind) {
    case "lengthPrefixed":
    case "delimited":
    case "lengthField":
    case "varint":
    case "netstring":
    case "crlf":
      if (!(value instanceof Uint8Array)) fail(`${where}: not a Uint8Array`);
      if (value.length > config.limit) {
        fail(`${where}: ${value.length} bytes, over the limit ${config.limit}`);
      }
      return;
    case "message": {
      const m = value as Message;
      if (!isPlainObject(m?.header) || !(m.body instanceof Uint8Array)) {
        fail(`${where}: not a { header: object, body: Uint8Array }`);
      }
      if (!isSize(m.header.size) || m.header.size !== m.body.length) {
        fail(`${where}: size ${m.header.size} but ${m.body.length} body bytes`);
      }
      if (m.body.length > config.bodyLimit) fail(`${where}: body over limit`);
      return;
    }
    case "head":
      if (!isPlainObject(value) || !isSize(value.size)) {
        fail(`${where}: not a header object with a valid size`);
      }
  }
}

/** What a stateless decode loop over the whole stream finds. */
export interface Reference {
  values: unknown[];
  /** The error `decode` threw, or INCOMPLETE_FRAME if bytes were left, or null. */
  code: FrameErrorCode | null;
  /** Whether the error came from `decode` (not from bytes left at the end). */
  thrown: boolean;
}

/**
 * Checks the optional `decodeMany` against `decode`: the same values, and a
 * stop exactly where `decode` needed more bytes or threw.
 */
function checkDecodeMany(
  config: Config,
  bytes: Uint8Array,
  values: readonly unknown[],
  stop: number,
): void {
  const codec = codecOf(config.framing);
  const decodeMany = codec?.decodeMany;
  if (!decodeMany) return;
  const got: unknown[] = [];
  let next: number;
  try {
    next = decodeMany.call(codec, bytes, 0, got);
  } catch (error) {
    fail(`decodeMany threw ${describeError(error)}`);
  }
  if (next !== stop) fail(`decodeMany stopped at ${next}, decode at ${stop}`);
  compareValues(config, got, values, false, "decodeMany");
}

/** Decodes all of `bytes` in one buffer, without a DecodeState. */
export function reference(config: Config, bytes: Uint8Array): Reference {
  const values: unknown[] = [];
  let offset = 0;
  for (;;) {
    let result: { value: unknown; next: number } | null;
    try {
      result = config.framing.decode(bytes, offset);
    } catch (error) {
      const e = expectFrameError(
        error,
        ["FRAME_TOO_LARGE", "BAD_HEADER"],
        `decode at ${offset}`,
      );
      checkDecodeMany(config, bytes, values, offset);
      return { values, code: e.code, thrown: true };
    }
    if (result === null) break;
    const { value, next } = result;
    if (!Number.isSafeInteger(next) || next <= offset || next > bytes.length) {
      fail(`decode at ${offset}: next is ${next}, stream is ${bytes.length}`);
    }
    checkValue(config, value, `decode at ${offset}`);
    values.push(value);
    offset = next;
  }
  checkDecodeMany(config, bytes, values, offset);
  return {
    values,
    code: offset < bytes.length ? "INCOMPLETE_FRAME" : null,
    thrown: false,
  };
}

function compareValues(
  config: Config,
  got: readonly unknown[],
  want: readonly unknown[],
  prefixOnly: boolean,
  where: string,
): void {
  if (prefixOnly ? got.length > want.length : got.length !== want.length) {
    fail(`${where}: ${got.length} values, expected ${want.length}`);
  }
  for (let i = 0; i < got.length; i++) {
    if (!sameValue(config, got[i], want[i])) {
      fail(`${where}: value ${i} differs from the one-buffer decode`);
    }
  }
}

/** How one decode of one stream ended. */
export interface Outcome {
  values: number;
  code: FrameErrorCode | null;
}

/**
 * Pushes `bytes` into a FrameDecoder in chunks of `sizes` and checks it
 * against `ref`. With `scribble`, each chunk is a copy overwritten after its
 * push (values are compared as they come out, before that).
 */
export function checkDecoder(
  config: Config,
  bytes: Uint8Array,
  chunking: Chunking,
  ref: Reference,
  scribble: boolean,
): void {
  const where = `FrameDecoder, ${chunking.name}${
    scribble ? " (chunks overwritten after push)" : ""
  }`;
  const decoder = new FrameDecoder(config.framing);
  const got: unknown[] = [];
  let code: FrameErrorCode | null = null;
  let thrown = false;
  for (const view of cut(bytes, chunking.sizes)) {
    const chunk = scribble ? view.slice() : view;
    let out: unknown[];
    try {
      out = decoder.push(chunk);
    } catch (error) {
      const e = expectFrameError(
        error,
        ["FRAME_TOO_LARGE", "BAD_HEADER"],
        `${where}: push`,
      );
      if (decoder.buffered > config.frameBound + chunk.length) {
        fail(`${where}: ${decoder.buffered} bytes buffered at the error`);
      }
      checkSticky(decoder, e, where);
      code = e.code;
      thrown = true;
      break;
    }
    if (!Array.isArray(out)) fail(`${where}: push returned a non-array`);
    if (!(decoder.buffered < config.frameBound || decoder.buffered === 0)) {
      fail(
        `${where}: ${decoder.buffered} bytes buffered, a frame is at most ${config.frameBound}`,
      );
    }
    for (const value of out) checkValue(config, value, where);
    if (scribble) {
      compareValues(
        config,
        out,
        ref.values.slice(got.length, got.length + out.length),
        false,
        where,
      );
      chunk.fill(0xa5);
    }
    got.push(...out);
  }
  if (!thrown) {
    const left = decoder.buffered;
    try {
      decoder.end();
      if (left !== 0) fail(`${where}: end() with ${left} bytes buffered`);
    } catch (error) {
      if (error instanceof FuzzFailure) throw error;
      const e = expectFrameError(error, ["INCOMPLETE_FRAME"], `${where}: end`);
      if (left === 0) fail(`${where}: end() threw with nothing buffered`);
      checkSticky(decoder, e, where);
      code = e.code;
    }
  }
  if (code !== ref.code) {
    fail(
      `${where}: ended with ${code}, the one-buffer decode with ${ref.code}`,
    );
  }
  if (!scribble) {
    // Compared only now: values handed out early must not have changed.
    // 1-byte chunks complete at most one value per push, so none is lost
    // to an error in the same push.
    const prefixOnly = thrown && chunking.name !== "1-byte chunks";
    compareValues(config, got, ref.values, prefixOnly, where);
  }
}

function checkSticky(decoder: FrameDecoder<unknown>, e: Error, where: string) {
  for (const chunk of [new Uint8Array(0), new Uint8Array([0, 0, 0, 0, 0])]) {
    try {
      decoder.push(chunk);
    } catch (again) {
      if (again !== e) {
        fail(`${where}: a push after the error threw ${describeError(again)}`);
      }
      continue;
    }
    fail(`${where}: a push after ${e.message} did not throw`);
  }
  try {
    decoder.end();
  } catch (again) {
    if (again === e) return;
    fail(`${where}: end() after the error threw ${describeError(again)}`);
  }
  fail(`${where}: end() after ${e.message} did not throw`);
}

/**
 * When a stream ends inside a frame, `DecoderStream` delivers every complete
 * value before INCOMPLETE_FRAME, as FrameDecoder does (it used not to: 16
 * frames in one chunk plus 2 stray bytes gave 8 values, then the error).
 * `strictIncomplete` false would accept a prefix of the values instead.
 */
export const DECODER_STREAM_STRICT_INCOMPLETE = true;

/** Runs `bytes` in chunks of `sizes` through a DecoderStream. */
export async function checkStream(
  config: Config,
  bytes: Uint8Array,
  chunking: Chunking,
  ref: Reference,
  strictIncomplete = DECODER_STREAM_STRICT_INCOMPLETE,
): Promise<void> {
  const where = `DecoderStream, ${chunking.name}`;
  const got: unknown[] = [];
  let code: FrameErrorCode | null = null;
  try {
    const stream = ReadableStream.from(cut(bytes, chunking.sizes))
      .pipeThrough(new DecoderStream(config.framing));
    for await (const value of stream) {
      checkValue(config, value, where);
      got.push(value);
    }
  } catch (error) {
    if (error instanceof FuzzFailure) throw error;
    code = expectFrameError(
      error,
      ["FRAME_TOO_LARGE", "BAD_HEADER", "INCOMPLETE_FRAME"],
      where,
    ).code;
  }
  if (code !== ref.code) {
    fail(
      `${where}: ended with ${code}, the one-buffer decode with ${ref.code}`,
    );
  }
  const prefixOnly = ref.thrown ||
    (!strictIncomplete && ref.code === "INCOMPLETE_FRAME");
  compareValues(config, got, ref.values, prefixOnly, where);
}

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).join();

/** Fails if anything was added to Object.prototype. */
export function checkPrototype(where: string): void {
  const keys = Object.getOwnPropertyNames(Object.prototype).join();
  const probe = {} as Record<string, unknown>;
  if (
    keys !== PROTOTYPE_KEYS || probe.polluted !== undefined ||
    probe.size !== undefined || Object.getPrototypeOf(probe) !==
      Object.prototype
  ) {
    fail(`${where}: Object.prototype was modified`);
  }
}

/**
 * Decodes `bytes` with `config` every way there is (a stateless loop, every
 * chunking, DecoderStream when `streams`) and checks they agree.
 */
export async function checkAll(
  config: Config,
  bytes: Uint8Array,
  rng: Rng,
  streams = true,
  all: Chunking[] = chunkings(rng, bytes.length),
): Promise<Reference> {
  const ref = reference(config, bytes);
  for (const chunking of all) {
    checkDecoder(config, bytes, chunking, ref, false);
  }
  checkDecoder(config, bytes, rng.pick(all), ref, true);
  if (streams) await checkStream(config, bytes, rng.pick(all), ref);
  checkPrototype(config.describe);
  return ref;
}

// ---------------------------------------------------------------------------
// Huge and deeply nested message headers

/** `{"size":0,"pad":"yyy…"}`, `length` bytes long. */
function padded(length: number): string {
  const frame = '{"size":0,"pad":""}';
  return frame.slice(0, -2) + "y".repeat(length - frame.length) + '"}';
}

/** A message header too deep or too long for a naive decoder. */
export interface HeavyCase {
  name: string;
  kind: "message" | "head";
  options: MessageOptions;
  json: string;
  body?: Uint8Array;
  /** The outcome: a value (null) or the FrameError code. */
  expected: FrameErrorCode | null;
  /** Seconds rather than milliseconds: for bench/fuzz.ts only. */
  slow?: boolean;
}

/** 100,000- and 1,000,000-deep JSON, and 10 MB headers, with their outcomes. */
export function heavyCases(): HeavyCase[] {
  const DEPTH = 100_000;
  const deep = nested(DEPTH, "[", "]");
  const raised: MessageOptions = { maxHeaderBytes: 16 * MiB };
  const pad = "x".repeat(10_000_000);
  const cases: HeavyCase[] = [];
  for (const kind of ["message", "head"] as const) {
    cases.push(
      {
        name: "100,000 [ at the default limit",
        kind,
        options: {},
        json: deep,
        expected: "FRAME_TOO_LARGE",
      },
      {
        name: "100,000 [ (LE) at the default limit",
        kind,
        options: { littleEndian: true },
        json: deep,
        expected: "FRAME_TOO_LARGE",
      },
      {
        name: "100,000 []",
        kind,
        options: raised,
        json: deep,
        expected: "BAD_HEADER",
      },
      {
        name: "100,000 [ unclosed",
        kind,
        options: raised,
        json: nested(DEPTH, "[", ""),
        expected: "BAD_HEADER",
      },
      {
        name: "100,000 { unclosed",
        kind,
        options: raised,
        json: nested(DEPTH, "{", ""),
        expected: "BAD_HEADER",
      },
      {
        name: '100,000 {"a":',
        kind,
        options: raised,
        json: nested(DEPTH, '{"a":', "}", "0"),
        expected: "BAD_HEADER",
      },
      {
        name: "size: 100,000 []",
        kind,
        options: raised,
        json: `{"size":${deep}}`,
        expected: "BAD_HEADER",
      },
      {
        name: "a: 100,000 [], size 0",
        kind,
        options: raised,
        json: `{"size":0,"a":${deep}}`,
        expected: null,
      },
      {
        name: "1,000,000 []",
        kind,
        options: raised,
        json: nested(10 * DEPTH, "[", "]"),
        expected: "BAD_HEADER",
        slow: true,
      },
      {
        name: '1,000,000 {"a":, size 0',
        kind,
        options: raised,
        json: `{"size":0,"a":${nested(10 * DEPTH, '{"a":', "}", "0")}}`,
        expected: null,
        slow: true,
      },
    );
  }
  const body = utf8("abc");
  const kind = "message";
  cases.push(
    {
      name: "10 MB header at the default limit",
      kind,
      options: {},
      json: `{"size":3,"pad":"${pad}"}`,
      body,
      expected: "FRAME_TOO_LARGE",
    },
    {
      name: "10 MB header",
      kind,
      options: raised,
      json: `{"size":3,"pad":"${pad}"}`,
      body,
      expected: null,
    },
    {
      name: "10 MB header cut short",
      kind,
      options: raised,
      json: `{"size":3,"pad":"${pad}`,
      expected: "BAD_HEADER",
    },
    {
      name: "10 MB string",
      kind,
      options: raised,
      json: `"${pad}"`,
      expected: "BAD_HEADER",
    },
    {
      name: "10 MB number",
      kind,
      options: raised,
      json: "1".repeat(10_000_000),
      expected: "BAD_HEADER",
    },
    {
      name: "10 MB array",
      kind,
      options: raised,
      json: `[${"1,".repeat(5_000_000)}1]`,
      expected: "BAD_HEADER",
      slow: true,
    },
    {
      name: "a header of exactly 16 MiB",
      kind,
      options: raised,
      json: padded(16 * MiB),
      expected: null,
      slow: true,
    },
    {
      name: "a header of 16 MiB + 1",
      kind,
      options: raised,
      json: padded(16 * MiB + 1),
      expected: "FRAME_TOO_LARGE",
      slow: true,
    },
  );
  return cases;
}

/** Decodes one heavy case in a few chunkings; fails unless it ends as expected. */
export async function checkHeavy(
  item: HeavyCase,
  rng: Rng,
): Promise<Reference> {
  const littleEndian = item.options.littleEndian ?? false;
  const bytes = messageFrame(item.json, item.body, littleEndian);
  const config = makeConfig(item.kind, item.options);
  const all: Chunking[] = [
    { name: "one chunk", sizes: [bytes.length] },
    evenChunks(bytes.length, 65536),
    evenChunks(bytes.length, item.json.length > MiB ? 4093 : 1000),
  ];
  const ref = await checkAll(config, bytes, rng, true, all);
  if (ref.code !== item.expected) {
    fail(
      `${item.kind} ${item.name}: ended with ${ref.code}, expected ${item.expected}`,
    );
  }
  return ref;
}

// ---------------------------------------------------------------------------
// Encode fuzzing

type Expected =
  | { ok: true }
  | { ok: false; error: "TypeError" | "RangeError" | FrameErrorCode };

function expectOutcome(
  expected: Expected,
  run: () => void,
  where: string,
): string {
  try {
    run();
  } catch (error) {
    if (error instanceof FuzzFailure) throw error;
    const got = error instanceof FrameError
      ? error.code
      : error instanceof TypeError
      ? "TypeError"
      : error instanceof RangeError
      ? "RangeError"
      : undefined;
    if (expected.ok || got !== expected.error) {
      fail(
        `${where}: threw ${describeError(error)}, expected ${
          expected.ok ? "success" : expected.error
        }`,
        error,
      );
    }
    return got;
  }
  if (!expected.ok) fail(`${where}: succeeded, expected ${expected.error}`);
  return "ok";
}

function isLimit(value: unknown): boolean {
  return value === undefined || value === null ||
    (Number.isSafeInteger(value) && (value as number) >= 0);
}

const BAD_LIMITS: readonly unknown[] = [
  -1,
  1.5,
  NaN,
  Infinity,
  2 ** 53,
  1e300,
  "10",
];

function maybeBad(rng: Rng, good: unknown): unknown {
  return rng.chance(0.08) ? rng.pick(BAD_LIMITS) : good;
}

/** Where `needle` first occurs in `bytes`, naively; -1 if nowhere. */
export function naiveIndexOf(bytes: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let k = 0; k < needle.length; k++) {
      if (bytes[i + k] !== needle[k]) continue outer;
    }
    return i;
  }
  return -1;
}

function randomPayload(
  rng: Rng,
  limit: number,
  delimiter?: Uint8Array,
): unknown {
  if (rng.chance(0.06)) {
    return rng.pick<unknown>([
      "abc",
      null,
      undefined,
      5,
      new ArrayBuffer(3),
      [1, 2, 3],
      new Uint16Array(2),
      new Uint8ClampedArray(2),
      { length: 3 },
    ]);
  }
  const edges = [limit - 1, limit, limit + 1, 255, 256, 65535, 65536];
  const length = rng.chance(0.3)
    ? Math.max(0, rng.pick(edges.filter((n) => n <= 70000)))
    : rng.length(Math.min(limit + 2, 70000));
  const alphabet = delimiter && delimiter.length > 0
    ? new Uint8Array([...delimiter, 0x41])
    : undefined;
  return rng.bytes(length, alphabet);
}

function randomHeader(rng: Rng): unknown {
  const r = rng.float();
  if (r < 0.06) {
    return rng.pick<unknown>([null, undefined, [], [1], "x", 5, true]);
  }
  const header = randomObject(rng, 3);
  if (r < 0.1) header.big = 10n;
  if (r < 0.13) header.self = header;
  if (r < 0.18) header.pad = "x".repeat(rng.pick([100, 1000, 70000]));
  if (r < 0.22) header.deep = JSON.parse(nested(rng.range(1, 5000), "[", "]"));
  return header;
}

/** Checks a successful encode: lengths, encodeInto, and a round trip. */
function checkEncoded(
  rng: Rng,
  config: Config,
  value: unknown,
  encoded: Uint8Array,
  want: Uint8Array | null,
  decoded: unknown,
  where: string,
): void {
  if (want !== null && !sameBytes(encoded, want)) {
    fail(`${where}: encoded bytes differ from the format`);
  }
  const framing = config.framing;
  const codec = codecOf(framing);
  if (codec) {
    if (codec.measure(value) !== encoded.length) {
      fail(`${where}: measure disagrees with encode`);
    }
    const offset = rng.int(8);
    const target = new Uint8Array(offset + encoded.length + 8).fill(0x5a);
    codec.write(value, target, offset);
    const written = encoded.length;
    if (
      written !== encoded.length ||
      !sameBytes(target.subarray(offset, offset + written), encoded) ||
      target.subarray(0, offset).some((b) => b !== 0x5a) ||
      target.subarray(offset + written).some((b) => b !== 0x5a)
    ) {
      fail(`${where}: write disagrees with encode`);
    }
  }
  const decoder = new FrameDecoder(framing);
  const out: unknown[] = [];
  try {
    for (const chunk of cut(encoded, randomSizes(rng, encoded.length, 1, 9))) {
      out.push(...decoder.push(chunk));
    }
    decoder.end();
  } catch (error) {
    fail(`${where}: decoding what encode wrote threw ${describeError(error)}`);
  }
  if (out.length !== 1 || !sameValue(config, out[0], decoded)) {
    fail(`${where}: decoding what encode wrote gave ${out.length} values`);
  }
}

/**
 * One random `encode`: random options (sometimes invalid) and a random value
 * (sometimes too large or not encodable). Returns the outcome's name.
 */
export function fuzzEncodeOnce(rng: Rng): string {
  const kind = rng.pick<Kind>([
    "lengthPrefixed",
    "delimited",
    "message",
    "head",
    "lengthField",
    "varint",
    "netstring",
  ]);
  let options: Record<string, unknown>;
  let expected: Expected;
  if (kind === "lengthPrefixed") {
    const headerBytes = rng.chance(0.08)
      ? rng.pick<unknown>([0, 5, 16, -1, NaN, "4"])
      : rng.pick([undefined, 1, 2, 3, 4, 8]);
    const max = maybeBad(
      rng,
      rng.pick([undefined, 0, 1, 100, 255, 256, 65535, 65536, 70000, MAX_SAFE]),
    );
    options = {
      headerBytes,
      littleEndian: rng.chance(0.5),
      maxFrameBytes: max,
      lengthIncludesHeader: rng.chance(0.3),
    };
    const goodWidth = headerBytes === undefined || headerBytes === null ||
      [1, 2, 3, 4, 8].includes(headerBytes as number);
    expected = goodWidth && isLimit(max)
      ? { ok: true }
      : { ok: false, error: "RangeError" };
  } else if (kind === "lengthField") {
    const headerBytes = rng.chance(0.08)
      ? rng.pick<unknown>([0, 5, 7, "4"])
      : rng.pick([undefined, 1, 2, 3, 4, 8]);
    const offset = maybeBad(rng, rng.pick([undefined, 0, 1, 4]));
    const adjustment = rng.chance(0.06)
      ? rng.pick<unknown>([0.5, NaN, Infinity, "1"])
      : rng.pick([undefined, 0, -4, -1, 1, 7]);
    const max = maybeBad(
      rng,
      rng.pick([undefined, 0, 5, 100, 255, 256, 65536, 70000, MAX_SAFE]),
    );
    options = {
      offset,
      headerBytes,
      littleEndian: rng.chance(0.5),
      adjustment,
      maxFrameBytes: max,
    };
    const goodWidth = headerBytes === undefined || headerBytes === null ||
      [1, 2, 3, 4, 8].includes(headerBytes as number);
    const goodAdjustment = adjustment === undefined ||
      Number.isSafeInteger(adjustment);
    expected = goodWidth && goodAdjustment && isLimit(offset) && isLimit(max)
      ? { ok: true }
      : { ok: false, error: "RangeError" };
  } else if (kind === "varint" || kind === "netstring") {
    const max = maybeBad(
      rng,
      rng.pick([undefined, 0, 1, 10, 127, 128, 1000, 70000, MAX_SAFE]),
    );
    options = { maxFrameBytes: max };
    expected = isLimit(max) ? { ok: true } : { ok: false, error: "RangeError" };
  } else if (kind === "delimited") {
    const delimiter = rng.chance(0.05)
      ? rng.pick<unknown>(["", new Uint8Array(0)])
      : rng.pick([undefined, ...DELIMITERS]);
    const max = maybeBad(rng, rng.pick([undefined, 0, 1, 3, 100, 70000]));
    const trimCr = rng.chance(0.25);
    options = { delimiter, maxFrameBytes: max, trimCr };
    const empty = (delimiter as { length?: number } | undefined)?.length === 0;
    const lf = delimiter === undefined || delimiter === "\n" ||
      (delimiter instanceof Uint8Array && delimiter.length === 1 &&
        delimiter[0] === 0x0a);
    expected = empty || (trimCr && !lf)
      ? { ok: false, error: "TypeError" }
      : isLimit(max)
      ? { ok: true }
      : { ok: false, error: "RangeError" };
  } else {
    const maxHeader = maybeBad(rng, rng.pick([undefined, 0, 16, 200, 100000]));
    const maxBody = maybeBad(rng, rng.pick([undefined, 0, 1, 100, 70000]));
    options = {
      littleEndian: rng.chance(0.5),
      maxHeaderBytes: maxHeader,
      maxBodyBytes: maxBody,
    };
    expected = isLimit(maxHeader) && isLimit(maxBody)
      ? { ok: true }
      : { ok: false, error: "RangeError" };
  }
  let config: Config | undefined;
  const where = `encode: ${describeOptions(kind, options)}`;
  const made = expectOutcome(expected, () => {
    config = makeConfig(kind, options as LengthPrefixOptions);
  }, `${where}: constructing`);
  if (config === undefined) return `options: ${made}`;
  const c: Config = config;

  if (kind === "lengthField") {
    const value = randomPayload(rng, c.limit);
    const o = c.options as LengthFieldOptions;
    const headerEnd = c.fieldOffset + c.headerBytes;
    const base = headerEnd + (o.adjustment ?? 0);
    const fieldMax = c.headerBytes === 8
      ? MAX_SAFE
      : 2 ** (8 * c.headerBytes) - 1;
    let want: Uint8Array | null = null;
    if (!(value instanceof Uint8Array)) {
      expected = { ok: false, error: "TypeError" };
    } else if (value.length < Math.max(headerEnd, base)) {
      expected = { ok: false, error: "BAD_HEADER" };
    } else if (value.length > c.limit || value.length - base > fieldMax) {
      expected = { ok: false, error: "FRAME_TOO_LARGE" };
    } else {
      expected = { ok: true };
      want = value.slice();
      const field = BigInt(value.length - base);
      writeUint(want, c.fieldOffset, c.headerBytes, c.littleEndian, field);
    }
    const copy = value instanceof Uint8Array ? value.slice() : undefined;
    let encoded: Uint8Array = new Uint8Array(0);
    const outcome = expectOutcome(expected, () => {
      encoded = c.framing.encode(value);
    }, `${where}: ${describeValue(value)}`);
    if (copy && !sameBytes(copy, value as Uint8Array)) {
      fail(`${where}: encode modified the caller's frame`);
    }
    if (outcome === "ok") {
      checkEncoded(rng, c, value, encoded, want, want, where);
    }
    return `${kind}: ${outcome}`;
  }

  if (
    kind === "lengthPrefixed" || kind === "delimited" || kind === "varint" ||
    kind === "netstring"
  ) {
    const trimCr = (c.options as DelimitedOptions).trimCr === true;
    const value = randomPayload(
      rng,
      c.limit,
      trimCr ? new Uint8Array([0x41, 0x41, 0x0d, 0x0d, 0x0a]) : c.delimiter,
    );
    let want: Uint8Array | null = null;
    if (!(value instanceof Uint8Array)) {
      expected = { ok: false, error: "TypeError" };
    } else if (value.length > c.limit) {
      expected = { ok: false, error: "FRAME_TOO_LARGE" };
    } else if (kind === "lengthPrefixed") {
      expected = { ok: true };
      const included = (c.options as LengthPrefixOptions).lengthIncludesHeader
        ? c.headerBytes
        : 0;
      want = new Uint8Array(c.headerBytes + value.length);
      writeUint(
        want,
        0,
        c.headerBytes,
        c.littleEndian,
        BigInt(value.length + included),
      );
      want.set(value, c.headerBytes);
    } else if (kind === "varint") {
      expected = { ok: true };
      want = concat([varintOf(BigInt(value.length)), value]);
    } else if (kind === "netstring") {
      expected = { ok: true };
      want = concat([utf8(`${value.length}:`), value, utf8(",")]);
    } else {
      want = concat([value, c.delimiter]);
      expected = naiveIndexOf(want, c.delimiter) === value.length &&
          !(trimCr && value.at(-1) === 0x0d)
        ? { ok: true }
        : { ok: false, error: "TypeError" };
    }
    let encoded: Uint8Array = new Uint8Array(0);
    const outcome = expectOutcome(expected, () => {
      encoded = c.framing.encode(value);
    }, `${where}: ${describeValue(value)}`);
    if (outcome === "ok") {
      checkEncoded(rng, c, value, encoded, want, value, where);
    }
    return `${kind}${trimCr ? " trimCr" : ""}: ${outcome}`;
  }

  // message and head
  const header = randomHeader(rng);
  const body = kind === "message" ? randomPayload(rng, c.bodyLimit) : undefined;
  let size: unknown = (body as Uint8Array | undefined)?.length;
  if (kind === "head" && header !== null && typeof header === "object") {
    size = rng.pick<unknown>([
      0,
      5,
      MAX_SAFE,
      -1,
      1.5,
      "5",
      2 ** 53,
      undefined,
    ]);
    (header as Record<string, unknown>).size = size;
  }
  let json: string | undefined;
  if (kind === "message" && !(body instanceof Uint8Array)) {
    expected = { ok: false, error: "TypeError" };
  } else if (kind === "message" && (body as Uint8Array).length > c.bodyLimit) {
    expected = { ok: false, error: "FRAME_TOO_LARGE" };
  } else if (
    kind === "head" && !isSize((header as { size?: unknown } | null)?.size)
  ) {
    expected = { ok: false, error: "TypeError" };
  } else if (!isPlainObject(header)) {
    expected = { ok: false, error: "TypeError" };
  } else {
    try {
      json = JSON.stringify({ ...header, size });
      expected = utf8(json).length > c.limit
        ? { ok: false, error: "FRAME_TOO_LARGE" }
        : { ok: true };
    } catch (error) {
      expected = {
        ok: false,
        error: error instanceof RangeError ? "RangeError" : "TypeError",
      };
    }
  }
  let encoded: Uint8Array = new Uint8Array(0);
  const value = kind === "message" ? { header, body } : header;
  const outcome = expectOutcome(expected, () => {
    encoded = c.framing.encode(value);
  }, `${where}: header ${describeValue(header)}, body ${describeValue(body)}`);
  if (outcome === "ok" && json !== undefined) {
    const want = messageFrame(
      json,
      kind === "message" ? body as Uint8Array : undefined,
      c.littleEndian,
    );
    const parsed = JSON.parse(json);
    const decoded = kind === "message" ? { header: parsed, body } : parsed;
    checkEncoded(rng, c, value, encoded, want, decoded, where);
  }
  return `${kind}: ${outcome}`;
}

function describeValue(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (typeof value === "object" && value !== null) {
    return Array.isArray(value) ? "an array" : "an object";
  }
  return String(value);
}

/** Random values through an EncoderStream agree with `encode`. */
export async function checkEncoderStream(rng: Rng): Promise<void> {
  const config = randomConfig(rng);
  const values: unknown[] = [];
  const want: Uint8Array[] = [];
  let error: string | undefined;
  for (let n = rng.range(0, 6); n > 0 && error === undefined; n--) {
    const value = rng.chance(0.1) ? "not bytes" : randomValue(rng, config);
    values.push(value);
    try {
      want.push(config.framing.encode(value));
    } catch (e) {
      error = describeError(e);
    }
  }
  const got: Uint8Array[] = [];
  let gotError: string | undefined;
  try {
    const stream = ReadableStream.from(values)
      .pipeThrough(new EncoderStream(config.framing));
    for await (const chunk of stream) got.push(chunk);
  } catch (e) {
    gotError = describeError(e);
  }
  const where = `EncoderStream ${config.describe}`;
  if (gotError !== error) fail(`${where}: threw ${gotError}, encode ${error}`);
  // Frames may leave coalesced: the bytes, in order, are what must agree.
  if (!sameBytes(concat(got), concat(want))) {
    fail(`${where}: bytes differ from encode`);
  }
}

// ---------------------------------------------------------------------------
// ReadBuffer against a model

const MIN_CAPACITY = 16 * 1024;

/**
 * Random appends, reserve/commit, takes and decodes on a ReadBuffer, checked
 * against a plain array: the bytes are right, views handed out are never
 * overwritten, reserve gives the room asked for, and the capacity stays
 * within 4× the most ever asked to hold (live bytes plus room).
 */
export function fuzzReadBuffer(rng: Rng): void {
  const buffer = new ReadBuffer();
  let model: Uint8Array = new Uint8Array(0);
  const lent: { view: Uint8Array; copy: Uint8Array }[] = [];
  let peak = 0;
  const config = rng.chance(0.5)
    ? makeConfig("lengthPrefixed", { headerBytes: 1 })
    : makeConfig("delimited", { maxFrameBytes: 1 << 20 });
  let driver = new DecodeDriver<unknown>(config.framing);
  const big = rng.pick([16, 300, 5000, 40000]);
  const lend = (view: Uint8Array) => {
    lent.push({ view, copy: view.slice() });
    if (lent.length > 64) lent.splice(rng.int(64), 1);
  };
  for (let step = 0; step < 200; step++) {
    const op = rng.int(5);
    const where = `ReadBuffer step ${step}, op ${op}`;
    if (op === 0) {
      const chunk = rng.bytes(rng.length(big), new Uint8Array([0x0a, 3, 0x41]));
      peak = Math.max(peak, model.length + chunk.length);
      buffer.append(chunk);
      model = concat([model, chunk]);
    } else if (op === 1) {
      const min = rng.length(big);
      peak = Math.max(peak, model.length + min);
      const space = buffer.reserve(min);
      if (space.length < min) {
        fail(`${where}: reserve(${min}) gave ${space.length}`);
      }
      const n = rng.int(Math.min(space.length, 2 * min + 1) + 1);
      const fresh = rng.bytes(n);
      space.set(fresh);
      buffer.commit(n);
      model = concat([model, fresh]);
    } else if (op === 2) {
      const n = rng.int(model.length + 1);
      const view = buffer.take(n);
      if (!sameBytes(view, model.subarray(0, n))) fail(`${where}: take(${n})`);
      model = model.slice(n);
      lend(view);
      // Bytes taken otherwise: a frame begun is void (as the reader does).
      driver = new DecodeDriver<unknown>(config.framing);
    } else {
      const ref = reference(config, model);
      const value = driver.next(buffer) as
        | Uint8Array
        | undefined;
      if (value === undefined) {
        if (ref.values.length > 0) fail(`${where}: decode missed a frame`);
      } else {
        if (
          ref.values.length === 0 ||
          !sameBytes(value, ref.values[0] as Uint8Array)
        ) {
          fail(`${where}: decode returned the wrong frame`);
        }
        const used =
          (config.kind === "lengthPrefixed" ? 1 : config.delimiter.length) +
          value.length;
        model = model.slice(used);
        lend(value);
      }
    }
    if (buffer.length !== model.length || !sameBytes(buffer.peek(), model)) {
      fail(`${where}: buffered bytes differ from the model`);
    }
    for (const { view, copy } of lent) {
      if (!sameBytes(view, copy)) fail(`${where}: a lent view was overwritten`);
    }
    const capacity = buffer.reserve(0).buffer.byteLength;
    if (capacity > Math.max(MIN_CAPACITY, 4 * peak)) {
      fail(`${where}: capacity ${capacity} for at most ${peak} bytes asked`);
    }
  }
}

// ---------------------------------------------------------------------------
// The driver

/** Counts of what a run did. */
export interface FuzzStats {
  seed: number;
  cases: number;
  streamBytes: number;
  values: number;
  /** Decode outcomes by framing kind and code ("ok" for a clean end). */
  outcomes: Record<string, number>;
  /** Encode outcomes by framing kind and result. */
  encodes: Record<string, number>;
  readBufferRuns: number;
  encoderStreamRuns: number;
  elapsedMs: number;
}

const ENCODE_SALT = 0x5bd1e995;
const READ_BUFFER_SALT = 0x27d4eb2f;
const ENCODER_STREAM_SALT = 0x165667b1;

/** The encode part of a case: four random encodes and an encodeMany; their outcomes. */
export function fuzzEncodes(seed: number): string[] {
  const rng = new Rng(seed ^ ENCODE_SALT);
  const outcomes: string[] = [];
  for (let k = 0; k < 4; k++) outcomes.push(fuzzEncodeOnce(rng));
  outcomes.push(fuzzEncodeManyOnce(rng));
  return outcomes;
}

/**
 * Checks the optional `encodeMany` of a random framing against `encode`, on
 * random values (some invalid) into a random target from random positions:
 * it must write exactly the frames `encode` gives, one after another, stop
 * before the first value that does not fit or that `encode` rejects, and
 * touch no byte outside what it reports.
 */
export function fuzzEncodeManyOnce(rng: Rng): string {
  const config = randomConfig(rng);
  const codec = codecOf(config.framing);
  const encodeMany = codec?.writeMany;
  if (!encodeMany) return `${config.kind}: no encodeMany`;
  const values = Array.from(
    { length: rng.range(0, 12) },
    () => randomPayload(rng, config.limit),
  );
  const from = rng.range(0, values.length);
  const expected: Uint8Array[] = [];
  const offset = rng.int(8);
  const target = new Uint8Array(offset + rng.length(300)).fill(0x5a);
  let room = target.length - offset;
  let next = from;
  for (; next < values.length; next++) {
    let frame: Uint8Array;
    try {
      frame = config.framing.encode(values[next]);
    } catch {
      break;
    }
    if (frame.length > room) break;
    room -= frame.length;
    expected.push(frame);
  }
  let got: { next: number; end: number };
  try {
    got = encodeMany.call(codec, values, from, target, offset);
  } catch (error) {
    fail(`encodeMany threw ${describeError(error)}`);
  }
  const bytes = concat(expected);
  const where = `encodeMany of ${values.length} values from ${from}`;
  if (got.next !== next) fail(`${where}: stopped at ${got.next}, not ${next}`);
  if (got.end !== offset + bytes.length) {
    fail(`${where}: ended at ${got.end}, not ${offset + bytes.length}`);
  }
  if (
    !sameBytes(target.subarray(offset, got.end), bytes) ||
    target.subarray(0, offset).some((b) => b !== 0x5a) ||
    target.subarray(got.end).some((b) => b !== 0x5a)
  ) {
    fail(`${where}: bytes differ from encode's`);
  }
  return `${config.kind}: encodeMany ${
    next === values.length ? "all" : "stopped"
  }`;
}

/** Options for {@linkcode runFuzz}. */
export interface FuzzOptions {
  seed: number;
  /** Stop after this many cases. */
  maxCases?: number;
  /** Stop after this many milliseconds. */
  timeMs?: number;
  /** Check DecoderStream on one case in this many. */
  streamEvery?: number;
  /** Fuzz only these framings (a kind repeated is drawn more often). */
  kinds?: readonly Kind[];
  /** Skip the encode, ReadBuffer and EncoderStream parts of each case. */
  decodeOnly?: boolean;
  /** Called about every `progressMs`. */
  onProgress?: (stats: FuzzStats) => void;
  progressMs?: number;
}

/** One case: a random framing, a mutated valid stream, every check. */
export async function runCase(
  seed: number,
  streams: boolean,
  kinds: readonly Kind[] = KINDS,
): Promise<
  { config: Config; ref: Reference; bytes: number; applied: string[] }
> {
  const rng = new Rng(seed);
  const config = randomConfig(rng, kinds);
  const valid = validStream(rng, config);
  const { bytes, applied } = mutate(rng, config, valid);
  try {
    const ref = await checkAll(config, bytes, rng, streams);
    return { config, ref, bytes: bytes.length, applied };
  } catch (error) {
    const shown = bytes.length <= 96
      ? `[${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ")}]`
      : `(${bytes.length} bytes)`;
    throw new FuzzFailure(
      `case ${
        hex32(seed)
      }: ${config.describe}, mutations [${applied}], stream ${shown}: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/**
 * Runs cases until `maxCases` or `timeMs`, whichever comes first. Throws a
 * FuzzFailure naming the run's seed and the failing case's seed.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const started = performance.now();
  const stats: FuzzStats = {
    seed: options.seed,
    cases: 0,
    streamBytes: 0,
    values: 0,
    outcomes: {},
    encodes: {},
    readBufferRuns: 0,
    encoderStreamRuns: 0,
    elapsedMs: 0,
  };
  const maxCases = options.maxCases ?? Infinity;
  const timeMs = options.timeMs ?? Infinity;
  const streamEvery = options.streamEvery ?? 4;
  const progressMs = options.progressMs ?? 5000;
  let lastProgress = started;
  for (let i = 0; i < maxCases; i++) {
    const now = performance.now();
    stats.elapsedMs = now - started;
    if (stats.elapsedMs >= timeMs) break;
    if (options.onProgress && now - lastProgress >= progressMs) {
      lastProgress = now;
      options.onProgress(stats);
    }
    const seed = caseSeed(options.seed, i);
    try {
      const { config, ref, bytes } = await runCase(
        seed,
        i % streamEvery === 0,
        options.kinds,
      );
      const key = `${config.kind} ${ref.code ?? "ok"}`;
      stats.outcomes[key] = (stats.outcomes[key] ?? 0) + 1;
      stats.streamBytes += bytes;
      stats.values += ref.values.length;
      if (options.decodeOnly) {
        stats.cases++;
        continue;
      }
      for (const outcome of fuzzEncodes(seed)) {
        stats.encodes[outcome] = (stats.encodes[outcome] ?? 0) + 1;
      }
      if (i % 8 === 0) {
        fuzzReadBuffer(new Rng(seed ^ READ_BUFFER_SALT));
        stats.readBufferRuns++;
      }
      if (i % 8 === 4) {
        await checkEncoderStream(new Rng(seed ^ ENCODER_STREAM_SALT));
        stats.encoderStreamRuns++;
      }
    } catch (error) {
      throw new FuzzFailure(
        `fuzz failure: run seed ${hex32(options.seed)}, case ${i} (seed ${
          hex32(seed)
        }); replay with \`deno task fuzz --replay ${hex32(seed)}${
          options.kinds ? ` --kinds ${options.kinds}` : ""
        }\`\n${(error as Error).message}`,
        { cause: error },
      );
    }
    stats.cases++;
  }
  stats.elapsedMs = performance.now() - started;
  return stats;
}

/** Replays one case (decode, encode, ReadBuffer and EncoderStream parts). */
export async function replayCase(
  seed: number,
  kinds: readonly Kind[] = KINDS,
): Promise<string> {
  const { config, ref, bytes, applied } = await runCase(seed, true, kinds);
  const encodes = fuzzEncodes(seed);
  fuzzReadBuffer(new Rng(seed ^ READ_BUFFER_SALT));
  await checkEncoderStream(new Rng(seed ^ ENCODER_STREAM_SALT));
  return `case ${
    hex32(seed)
  } passed: ${config.describe}, mutations [${applied}], ${bytes} bytes, ${ref.values.length} values, ended ${
    ref.code ?? "ok"
  }; encodes: ${encodes.join(", ")}`;
}
