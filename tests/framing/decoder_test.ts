// framing/decoder.ts: FrameDecoder and the decode driver behind every codec.
// The sticky-packet property (any split of a byte stream gives the same
// values, each as soon as its last byte arrives: scripted splits at every
// boundary and a seeded random property test), views into pushed chunks,
// end() and INCOMPLETE_FRAME, a failed decoder staying failed, and long frames
// in small chunks (linear cost, checked without timing).

import {
  delimited,
  encodeFrame,
  FrameDecoder,
  type FrameErrorCode,
  type Framing,
  lengthField,
  lengthPrefixed,
  type LengthPrefixOptions,
  type Message,
  message,
  netstring,
  varintPrefixed,
} from "../../framing.ts";
import { CODEC, type CodecFraming, codecOf } from "../../framing/types.ts";
import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
  concat,
  equals,
} from "../_helpers/assert.ts";
import { bytes, KiB, MiB, text, utf8 } from "../_helpers/bytes.ts";
import {
  assertFrameError,
  counted,
  decodeAll,
  MYSQL,
  POSTGRES,
  rawMessage,
} from "../_helpers/framing.ts";
import { naiveIndexOf } from "../_helpers/fuzz.ts";
import { Rng } from "../_helpers/random.ts";

/** The stream of `values` encoded one after another, and where each frame ends. */
function encodeAll<T>(
  framing: Framing<T>,
  values: T[],
): { stream: Uint8Array; ends: number[] } {
  const frames = values.map((value) => framing.encode(value));
  const ends: number[] = [];
  let end = 0;
  for (const frame of frames) ends.push(end += frame.length);
  return { stream: concat(frames), ends };
}

/** `stream` cut at `cuts` (ascending, may repeat: an empty chunk). */
function cutAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    chunks.push(stream.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/**
 * Feeds `chunks` to a fresh decoder and checks that each push returns exactly
 * the frames whose last byte it delivered; returns every value.
 */
function feed<T>(
  framing: Framing<T>,
  chunks: Uint8Array[],
  ends: number[],
  label: string,
): T[] {
  const decoder = new FrameDecoder(framing);
  const values: T[] = [];
  let received = 0;
  for (const chunk of chunks) {
    const out = decoder.push(chunk);
    received += chunk.length;
    const due = ends.filter((end) => end <= received).length;
    assertEquals(
      values.length + out.length,
      due,
      `${label}: values after ${received} bytes`,
    );
    values.push(...out);
    assertEquals(
      decoder.buffered,
      received - (ends[due - 1] ?? 0),
      `${label}: buffered`,
    );
  }
  decoder.end();
  return values;
}

// ---------------------------------------------------------------------------
// Boundary tables: every split point, one split and two splits

function boundaryTable<T>(
  name: string,
  framing: Framing<T>,
  values: T[],
): void {
  const { stream, ends } = encodeAll(framing, values);
  Deno.test(`every split point (1/2): ${name}, ${stream.length} bytes`, () => {
    for (let i = 0; i <= stream.length; i++) {
      const label = `split at ${i}`;
      assertEquals(
        feed(framing, cutAt(stream, [i]), ends, label),
        values,
        label,
      );
    }
  });
  Deno.test(`every split point (2/2): ${name}, two splits`, () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const label = `splits at ${i} and ${j}`;
        assertEquals(
          feed(framing, cutAt(stream, [i, j]), ends, label),
          values,
          label,
        );
      }
    }
  });
}

const payloads = ["", "a", "hello", "", "sticky packets!"].map(utf8);

for (const headerBytes of [1, 2, 4, 8] as const) {
  for (const littleEndian of [false, true]) {
    const options: LengthPrefixOptions = { headerBytes, littleEndian };
    boundaryTable(
      `lengthPrefixed ${headerBytes}-byte ${
        littleEndian ? "little" : "big"
      }-endian`,
      lengthPrefixed(options),
      payloads,
    );
  }
}
boundaryTable('delimited "\\n"', delimited(), payloads);
boundaryTable(
  'delimited "\\r\\n", lines holding "\\r" and "\\n"',
  delimited({ delimiter: "\r\n" }),
  [
    ...payloads,
    utf8("a\rb\nc\r"),
    utf8("\n"),
  ],
);
boundaryTable(
  'delimited "--XY--", lines holding parts of it',
  delimited({ delimiter: "--XY--" }),
  [
    utf8(""),
    utf8("a--X"),
    utf8("-"),
    utf8("--Y--"),
    utf8("--XY-a"),
    utf8(""),
  ],
);
boundaryTable(
  "message",
  message(),
  [
    { header: { name: "a.txt", size: 3 }, body: utf8("abc") },
    { header: { size: 0 }, body: new Uint8Array(0) },
    { header: { n: [1, 2], size: 1 }, body: utf8("z") },
  ] satisfies Message[],
);
boundaryTable(
  "message little-endian",
  message({ littleEndian: true }),
  [
    { header: { size: 2 }, body: utf8("hi") },
    { header: { name: "é", size: 0 }, body: new Uint8Array(0) },
  ] satisfies Message[],
);

// The codecs for other people's protocols.

for (const littleEndian of [false, true]) {
  boundaryTable(
    `lengthPrefixed 3-byte ${littleEndian ? "little" : "big"}-endian`,
    lengthPrefixed({ headerBytes: 3, littleEndian }),
    payloads,
  );
}
boundaryTable(
  "lengthPrefixed, the length includes the header (PostgreSQL's StartupMessage)",
  lengthPrefixed({ lengthIncludesHeader: true }),
  payloads,
);
boundaryTable(
  "lengthPrefixed 2-byte little-endian, the length includes the header",
  lengthPrefixed({
    headerBytes: 2,
    littleEndian: true,
    lengthIncludesHeader: true,
  }),
  payloads,
);
/** PostgreSQL-style messages: a type byte, 4 length bytes to fill, a body. */
const pgMessages = ["Z", "Tab", "C", "D\0\0x"].map((m) =>
  concat([utf8(m[0]), new Uint8Array(4), utf8(m.slice(1))])
).map((frame) => POSTGRES.encode(frame));
boundaryTable(
  "lengthField PostgreSQL (offset 1, adjustment -4)",
  POSTGRES,
  pgMessages,
);
boundaryTable(
  "lengthField MySQL (3-byte little-endian, adjustment +1)",
  MYSQL,
  payloads.map((payload, seq) =>
    MYSQL.encode(concat([new Uint8Array([0, 0, 0, seq]), payload]))
  ),
);
const WHOLE = lengthField({ offset: 3, headerBytes: 2, adjustment: -5 });
boundaryTable(
  "lengthField, 2-byte field after a 3-byte prefix, counting the whole frame",
  WHOLE,
  ["abcde", "xyz\0\0payload", "\0\0\0\0\0"].map((f) => WHOLE.encode(utf8(f))),
);
boundaryTable("varintPrefixed", varintPrefixed(), [
  ...payloads,
  new Uint8Array(130).fill(7), // a 2-byte varint
  utf8("after"),
]);
boundaryTable("netstring", netstring(), [
  ...payloads,
  utf8("0123456789,:"), // a 2-digit length; ":" and "," inside
  utf8(""),
]);
const trimCr = delimited({ trimCr: true });
/** LF and CRLF lines mixed: a line ending in "\r", or of odd length, gets "\r\n". */
const mixedLines: CodecFraming<Uint8Array> = {
  encode: (line: Uint8Array) =>
    concat([
      line,
      utf8(line.length % 2 || line.at(-1) === 0x0d ? "\r\n" : "\n"),
    ]),
  decode: (bytes: Uint8Array, offset: number) => trimCr.decode(bytes, offset),
  [CODEC]: codecOf(trimCr)!,
};

boundaryTable(
  'delimited "\\n" with trimCr, lines ending "\\n" and "\\r\\n"',
  mixedLines,
  [...payloads, utf8("a\rb"), utf8("\r\r\r"), utf8("")],
);

// Named situations from the table, spelled out.

Deno.test("split header (1/2): two bytes of a 4-byte header, then the rest", () => {
  const decoder = new FrameDecoder(lengthPrefixed());
  assertEquals(decoder.push(new Uint8Array([0, 0])), []);
  assertEquals(decoder.push(new Uint8Array([0, 2, 104])), []);
  assertEquals(decoder.push(new Uint8Array([105])).map(text), ["hi"]);
});

Deno.test("split header (2/2): the header's last byte arrives with the next frame", () => {
  const decoder = new FrameDecoder(lengthPrefixed({ headerBytes: 2 }));
  assertEquals(decoder.push(new Uint8Array([0, 1, 65, 0])).map(text), ["A"]);
  assertEquals(decoder.push(new Uint8Array([1, 66, 0, 0])).map(text), [
    "B",
    "",
  ]);
});

for (const delimiter of ["\r\n", "--XY--"]) {
  for (let k = 1; k < delimiter.length; k++) {
    Deno.test(`split delimiter (${k}/${delimiter.length - 1}): ${JSON.stringify(delimiter)} cut after ${k} bytes`, () => {
      const decoder = new FrameDecoder(delimited({ delimiter }));
      const wire = `one${delimiter}two${delimiter}`;
      const cut = 3 + k;
      assertEquals(decoder.push(utf8(wire.slice(0, cut))), []);
      assertEquals(decoder.push(utf8(wire.slice(cut))).map(text), [
        "one",
        "two",
      ]);
      decoder.end();
    });
  }
}

Deno.test("read_single_frame_multi_packet: a frame in 1-byte pushes appears with its last byte", () => {
  const framing = lengthPrefixed();
  const frame = framing.encode(utf8("hello"));
  const decoder = new FrameDecoder(framing);
  for (let i = 0; i < frame.length - 1; i++) {
    assertEquals(decoder.push(frame.subarray(i, i + 1)), [], `byte ${i}`);
  }
  assertEquals(decoder.push(frame.subarray(frame.length - 1)).map(text), [
    "hello",
  ]);
});

Deno.test("read_multi_frame_single_packet: three frames in one push, in order", () => {
  const framing = delimited();
  const decoder = new FrameDecoder(framing);
  assertEquals(decoder.push(utf8("a\nbb\nccc\n")).map(text), [
    "a",
    "bb",
    "ccc",
  ]);
  assertEquals(decoder.buffered, 0);
});

// ---------------------------------------------------------------------------
// Property: random values, random splits

const SETS = 200;

/** Random bytes, biased toward `alphabet` so delimiters half-appear often. */
function randomBytes(
  random: (n: number) => number,
  length: number,
  alphabet: Uint8Array,
): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    bytes[i] = random(3) === 0
      ? random(256)
      : alphabet[random(alphabet.length)];
  }
  return bytes;
}

/** A random payload length: mostly short, some empty, a few long. */
function randomLength(random: (n: number) => number, max: number): number {
  const kind = random(10);
  if (kind === 0) return 0;
  if (kind === 1) return random(max + 1);
  return random(Math.min(max, 40) + 1);
}

interface Generator<T> {
  name: string;
  framing: Framing<T>;
  values: (random: (n: number) => number) => T[];
}

function payloadGenerator(
  name: string,
  options: LengthPrefixOptions,
): Generator<Uint8Array> {
  const max = options.headerBytes === 1 ? 255 : 600;
  const alphabet = new Uint8Array([0, 1, 255]);
  return {
    name,
    framing: lengthPrefixed(options),
    values: (random) =>
      Array.from(
        { length: random(12) },
        () => randomBytes(random, randomLength(random, max), alphabet),
      ),
  };
}

function lineGenerator(delimiter: string): Generator<Uint8Array> {
  const needle = utf8(delimiter);
  return {
    name: `delimited ${JSON.stringify(delimiter)}`,
    framing: delimited({ delimiter }),
    values: (random) =>
      Array.from({ length: random(12) }, () => {
        for (;;) {
          const line = randomBytes(
            random,
            randomLength(random, 300),
            utf8(delimiter + "a"),
          );
          // Only lines that can round-trip: the first delimiter in line +
          // delimiter is the appended one.
          if (
            naiveIndexOf(concat([line, needle]), needle) === line.length
          ) return line;
        }
      }),
  };
}

const messageGenerator: Generator<Message> = {
  name: "message",
  framing: message(),
  values: (random) =>
    Array.from({ length: random(6) }, (_, i) => {
      const body = randomBytes(
        random,
        randomLength(random, 400),
        new Uint8Array([0x7b, 0x7d]),
      );
      const header: Record<string, unknown> = { i, size: body.length };
      if (random(2)) header.name = "x".repeat(random(20)) + "ü";
      return { header, body };
    }),
};

/** Random payloads, each made a value by `make` (a whole frame, say). */
function madeGenerator(
  name: string,
  framing: Framing<Uint8Array>,
  make: (payload: Uint8Array, i: number) => Uint8Array = (payload) => payload,
  alphabet = new Uint8Array([0, 1, 255, 0x30, 0x3a, 0x2c, 0x0d, 0x80]),
): Generator<Uint8Array> {
  return {
    name,
    framing,
    values: (random) =>
      Array.from(
        { length: random(12) },
        (_, i) =>
          make(randomBytes(random, randomLength(random, 600), alphabet), i),
      ),
  };
}

const generators: Generator<unknown>[] = [
  payloadGenerator("lengthPrefixed", {}),
  payloadGenerator("lengthPrefixed 1-byte", { headerBytes: 1 }),
  payloadGenerator("lengthPrefixed 2-byte little-endian", {
    headerBytes: 2,
    littleEndian: true,
  }),
  payloadGenerator("lengthPrefixed 8-byte little-endian", {
    headerBytes: 8,
    littleEndian: true,
  }),
  lineGenerator("\n"),
  lineGenerator("\r\n"),
  lineGenerator("--XY--"),
  messageGenerator as Generator<unknown>,
  payloadGenerator(
    "lengthPrefixed 3-byte little-endian, length includes header",
    {
      headerBytes: 3,
      littleEndian: true,
      lengthIncludesHeader: true,
    },
  ),
  madeGenerator(
    "lengthField PostgreSQL",
    POSTGRES,
    (body) => POSTGRES.encode(concat([utf8("D\0\0\0\0"), body])),
  ),
  madeGenerator(
    "lengthField MySQL",
    MYSQL,
    (body, seq) => MYSQL.encode(concat([new Uint8Array([0, 0, 0, seq]), body])),
  ),
  madeGenerator("varintPrefixed", varintPrefixed()),
  madeGenerator("netstring", netstring()),
  madeGenerator(
    'delimited "\\n" trimCr, LF and CRLF lines',
    mixedLines,
    (line) => line.map((byte) => byte === 0x0a ? 0x61 : byte),
    new Uint8Array([0x0d, 0x0a, 0x61]),
  ),
];

for (const { name, framing, values: generate } of generators) {
  Deno.test(`property: ${SETS} random value sets, random / 1-byte / single chunks agree: ${name}`, () => {
    const rng = new Rng(0x5eed + name.length * 7919);
    const random = (n: number) => rng.int(n);
    let frames = 0;
    for (let set = 0; set < SETS; set++) {
      const values = generate(random);
      frames += values.length;
      const { stream, ends } = encodeAll(framing, values);
      const label = `${name}, set ${set}`;

      assertEquals(
        feed(framing, [stream], ends, `${label}, one chunk`),
        values,
        `${label}, one chunk`,
      );

      const ones = Array.from(stream, (_, i) => stream.subarray(i, i + 1));
      assertEquals(
        feed(framing, ones, ends, `${label}, 1-byte`),
        values,
        `${label}, 1-byte`,
      );

      const cuts: number[] = [];
      for (let at = random(20); at < stream.length; at += random(40)) {
        cuts.push(at);
      }
      assertEquals(
        feed(framing, cutAt(stream, cuts), ends, `${label}, cuts ${cuts}`),
        values,
        `${label}, cuts ${cuts}`,
      );
    }
    assert(frames > SETS * 2, `only ${frames} frames generated`);
  });
}

Deno.test("read_long_frame_small_chunks: a 32 MiB frame fed in 1 KiB chunks", () => {
  const payload = new Uint8Array(32 * MiB);
  for (let i = 0; i < payload.length; i += 4096) payload[i] = i / 4096;
  payload[payload.length - 1] = 0xab;
  const framing = lengthPrefixed({ maxFrameBytes: 32 * MiB });
  const stream = concat([
    framing.encode(payload),
    framing.encode(utf8("next")),
  ]);
  const decoder = new FrameDecoder(framing);
  const values: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += KiB) {
    const out = decoder.push(stream.subarray(at, at + KiB));
    if (values.length === 0 && at + KiB < 4 + payload.length) {
      assertEquals(
        out.length,
        0,
        `a value before the frame's last byte (at ${at})`,
      );
    }
    values.push(...out);
  }
  decoder.end();
  assertEquals(values.length, 2);
  assertEquals(values[0].length, payload.length);
  assert(equals(values[0], payload), "the 32 MiB payload differs");
  assertEquals(text(values[1]), "next");
});

// ---------------------------------------------------------------------------
// Zero-copy and stable values

Deno.test("FrameDecoder: values inside one pushed chunk are views into it", () => {
  const cases: [string, Framing<Uint8Array>, Uint8Array[]][] = [
    ["lengthPrefixed", lengthPrefixed(), [utf8("ab"), utf8(""), utf8("cde")]],
    ["delimited", delimited({ delimiter: "\r\n" }), [utf8("ab"), utf8("cde")]],
  ];
  for (const [name, framing, payloads] of cases) {
    const chunk = concat(payloads.map((p) => framing.encode(p)));
    const values = new FrameDecoder(framing).push(chunk);
    assertEquals(values, payloads, name);
    let offset = 0;
    values.forEach((value, i) => {
      assertStrictEquals(value.buffer, chunk.buffer, `${name} value ${i}`);
      const start = name === "lengthPrefixed" ? offset + 4 : offset;
      assertEquals(value.byteOffset, start, `${name} value ${i} offset`);
      offset += framing.encode(payloads[i]).length;
    });
  }
  const bytes = message().encode({ header: { a: 1 }, body: utf8("body") });
  const [decoded] = new FrameDecoder(message()).push(bytes);
  assertStrictEquals(decoded.body.buffer, bytes.buffer);
  assertEquals(decoded.body.byteOffset, bytes.length - 4);
});

Deno.test("FrameDecoder: values returned earlier are never overwritten by later pushes", () => {
  // Frames of 0..300 bytes in chunks of 1..200 bytes: frames straddle chunks,
  // so most are decoded from the decoder's own buffer, which refills, grows
  // and compacts many times over the 600 KiB pushed.
  const rng = new Rng(7);
  const random = (n: number) => rng.int(n);
  const payloads = Array.from({ length: 4000 }, (_, i) => {
    const payload = new Uint8Array(random(301));
    payload.fill(i % 251);
    return payload;
  });
  const stream = concat(payloads.map((p) => encodeFrame(p)));
  const decoder = new FrameDecoder(lengthPrefixed());
  const values: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  for (let offset = 0; offset < stream.length;) {
    const end = Math.min(stream.length, offset + 1 + random(200));
    for (const value of decoder.push(stream.slice(offset, end))) {
      values.push(value);
      copies.push(value.slice());
    }
    offset = end;
  }
  decoder.end();
  assertEquals(values.length, payloads.length);
  assertEquals(copies, payloads);
  values.forEach((value, i) => assertEquals(value, copies[i], `value ${i}`));
});

Deno.test("FrameDecoder: a chunk the caller reuses after push does not corrupt the partial frame", () => {
  const frame = encodeFrame(utf8("hello world"));
  const chunk = new Uint8Array(8);
  chunk.set(frame.subarray(0, 8));
  const decoder = new FrameDecoder(lengthPrefixed());
  assertEquals(decoder.push(chunk), []);
  chunk.fill(0xee); // the caller reads the next bytes into the same array
  chunk.set(frame.subarray(8));
  assertEquals(decoder.push(chunk.subarray(0, frame.length - 8)).map(text), [
    "hello world",
  ]);
});

// ---------------------------------------------------------------------------
// INCOMPLETE_FRAME

Deno.test("read_incomplete_head: end() with half a header is INCOMPLETE_FRAME", () => {
  const decoder = new FrameDecoder(lengthPrefixed());
  decoder.push(new Uint8Array([0, 0]));
  const error = assertFrameError(() => decoder.end(), "INCOMPLETE_FRAME");
  assertStringIncludes(error.message, "2 bytes");
});

Deno.test("read_incomplete_payload: end() inside a payload or a line is INCOMPLETE_FRAME", () => {
  const frames = new FrameDecoder(lengthPrefixed());
  assertEquals(
    frames.push(
      concat([encodeFrame(utf8("a")), encodeFrame(utf8("bcd")).subarray(0, 6)]),
    ).length,
    1,
  );
  assertFrameError(() => frames.end(), "INCOMPLETE_FRAME");

  const lines = new FrameDecoder(delimited({ delimiter: "\r\n" }));
  assertEquals(lines.push(utf8("a\r\nb\r")).map(text), ["a"]);
  assertFrameError(() => lines.end(), "INCOMPLETE_FRAME");

  const messages = new FrameDecoder(message());
  messages.push(rawMessage('{"size":3}', utf8("ab")));
  assertFrameError(() => messages.end(), "INCOMPLETE_FRAME");
});

Deno.test("end() between frames is a clean end, even twice", () => {
  const decoder = new FrameDecoder(lengthPrefixed());
  decoder.end(); // nothing ever pushed
  assertEquals(decoder.push(encodeFrame(utf8("a"))).map(text), ["a"]);
  decoder.end();
  decoder.end();
});

// ---------------------------------------------------------------------------
// After a FrameError the decoder stays failed

Deno.test("after a FrameError every push (and end) throws the same error", () => {
  const cases: [string, FrameDecoder<unknown>, Uint8Array][] = [
    [
      "FRAME_TOO_LARGE",
      new FrameDecoder(lengthPrefixed({ maxFrameBytes: 1 })),
      new Uint8Array([0, 0, 0, 2]),
    ],
    ["BAD_HEADER", new FrameDecoder(message()), rawMessage("null")],
    [
      "FRAME_TOO_LARGE",
      new FrameDecoder(delimited({ maxFrameBytes: 1 })),
      utf8("ab"),
    ],
  ];
  for (const [code, decoder, bad] of cases) {
    const first = assertFrameError(
      () => decoder.push(bad),
      code as FrameErrorCode,
    );
    // Even bytes that would be a valid frame on their own.
    const valid = new Uint8Array([0, 0, 0, 0, 10]);
    assertStrictEquals(assertThrows(() => decoder.push(valid)), first, code);
    assertStrictEquals(
      assertThrows(() => decoder.push(new Uint8Array(0))),
      first,
      code,
    );
    assertStrictEquals(assertThrows(() => decoder.end()), first, code);
  }
  const ended = new FrameDecoder(lengthPrefixed());
  ended.push(new Uint8Array([0]));
  const incomplete = assertFrameError(() => ended.end(), "INCOMPLETE_FRAME");
  assertStrictEquals(
    assertThrows(() => ended.push(new Uint8Array([0, 0, 0]))),
    incomplete,
  );
  assertStrictEquals(assertThrows(() => ended.end()), incomplete);
});

const LARGE: [string, Framing<Uint8Array>, (size: number) => Uint8Array][] = [
  [
    "lengthPrefixed 3-byte, length includes header",
    lengthPrefixed({ headerBytes: 3, lengthIncludesHeader: true }),
    (size) => new Uint8Array(size),
  ],
  ["lengthField PostgreSQL", POSTGRES, (size) => new Uint8Array(size + 5)],
  ["varintPrefixed", varintPrefixed(), (size) => new Uint8Array(size)],
  ["netstring", netstring(), (size) => new Uint8Array(size)],
];

for (const [name, framing, value] of LARGE) {
  Deno.test(`read_long_frame_small_chunks: ${name}, a 4 MiB frame in 1 KiB chunks is decoded a few times, not once per chunk`, () => {
    const { framing: wrapped, counts } = counted(framing);
    const big = value(4 * MiB);
    big[big.length - 1] = 0xab;
    const frame = framing.encode(big);
    const stream = concat([frame, framing.encode(value(1))]);
    const decoder = new FrameDecoder(wrapped);
    const values: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += KiB) {
      values.push(...decoder.push(stream.subarray(at, at + KiB)));
    }
    decoder.end();
    assertEquals(values.length, 2);
    assertEquals(values[0].at(-1), 0xab);
    assert(counts.calls < 10, `${counts.calls} decode calls for 4097 chunks`);
  });
}

/** Bytes in use by ArrayBuffers: where a big allocation would show. */
const external = () => Deno.memoryUsage().external;

Deno.test("a header announcing a frame within a raised limit allocates nothing of its size before the bytes come", () => {
  const GiB = 1024 * MiB;
  const headers: [string, Framing<Uint8Array>, Uint8Array][] = [
    [
      "lengthPrefixed 4-byte, length includes header",
      lengthPrefixed({ lengthIncludesHeader: true, maxFrameBytes: GiB }),
      bytes(0x3f, 0xff, 0xff, 0xff),
    ],
    [
      "lengthField PostgreSQL",
      lengthField({
        offset: 1,
        headerBytes: 4,
        adjustment: -4,
        maxFrameBytes: GiB,
      }),
      bytes(0x44, 0x3f, 0xff, 0xff, 0xff),
    ],
    [
      "varintPrefixed",
      varintPrefixed({ maxFrameBytes: GiB }),
      bytes(0xff, 0xff, 0xff, 0xff, 0x03), // 1 GiB - 1
    ],
    ["netstring", netstring({ maxFrameBytes: GiB }), utf8("1073741823:")],
  ];
  for (const [name, framing, header] of headers) {
    const decoder = new FrameDecoder(framing);
    const before = external();
    for (let i = 0; i < 16; i++) {
      assertEquals(decoder.push(i === 0 ? header : new Uint8Array(KiB)), []);
    }
    const grown = external() - before;
    assert(grown < 8 * MiB, `${name}: ${grown} bytes allocated for a header`);
  }
});

Deno.test("the new codecs' values are views into a chunk that holds them whole", () => {
  const cases: [Framing<Uint8Array>, Uint8Array][] = [
    [
      lengthPrefixed({ headerBytes: 3, lengthIncludesHeader: true }),
      utf8("abc"),
    ],
    [MYSQL, concat([bytes(0, 0, 0, 1), utf8("abc")])],
    [varintPrefixed(), utf8("abc")],
    [netstring(), utf8("abc")],
    [delimited({ trimCr: true }), utf8("abc")],
  ];
  for (const [framing, value] of cases) {
    const stream = concat([framing.encode(value), framing.encode(value)]);
    const values = decodeAll(framing, stream);
    assertEquals(values.length, 2);
    for (const decoded of values) assertEquals(decoded.buffer, stream.buffer);
  }
});
