// The codecs for protocols people already speak: exact bytes against what
// the other side's libraries write, every error each one throws (each
// `throw` in framing/length_field.ts, varint.ts, netstring.ts, and the
// trimCr / lengthIncludesHeader / 3-byte branches of delimited.ts and
// length_prefixed.ts), limits checked from the header alone before anything
// of the announced size is allocated, views not copies, and linear cost.
// Every split point: tests/framing_split_test.ts; hostile streams:
// tests/fuzz_test.ts.

import {
  delimited,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  type Framing,
  lengthField,
  type LengthFieldOptions,
  lengthPrefixed,
  netstring,
  varintPrefixed,
} from "../framing.ts";
import {
  CODEC,
  type CodecFraming,
  codecOf,
  type DecodeState,
} from "../framing/types.ts";
import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
  concat,
} from "./_helpers/assert.ts";
import { bytes, hex, KiB, MiB, text, utf8 } from "./_helpers/bytes.ts";
import { python } from "./_helpers/python.ts";

const POSTGRES = lengthField({ offset: 1, headerBytes: 4, adjustment: -4 });
const MYSQL = lengthField({
  headerBytes: 3,
  littleEndian: true,
  adjustment: 1,
});

/** Asserts that `fn` throws a FrameError of `code` whose message has `part`. */
function frameError(
  fn: () => unknown,
  code: FrameErrorCode,
  part: string,
): FrameError {
  const error = assertThrows(fn, FrameError);
  assertEquals(error.code, code, error.message);
  assertStringIncludes(error.message, part);
  return error;
}

/** Every value of `stream` decoded in one push; `end()` checked. */
function decodeAll(framing: Framing<Uint8Array>, stream: Uint8Array) {
  const decoder = new FrameDecoder(framing);
  const values = decoder.push(stream);
  decoder.end();
  return values;
}

// ---------------------------------------------------------------------------
// Exact bytes

Deno.test("lengthPrefixed 3-byte: both byte orders, as Python's struct.pack('<I')[:3] / ('>I')[1:] write them", async () => {
  const payload = new Uint8Array(0x010203);
  const little = lengthPrefixed({ headerBytes: 3, littleEndian: true });
  const big = lengthPrefixed({ headerBytes: 3 });
  assertEquals(
    hex(little.encode(payload).subarray(0, 3)),
    await python(`import struct; print(struct.pack("<I", 0x010203)[:3].hex())`),
  );
  assertEquals(
    hex(big.encode(payload).subarray(0, 3)),
    await python(`import struct; print(struct.pack(">I", 0x010203)[1:].hex())`),
  );
  assertEquals(
    little.decode(little.encode(payload), 0)?.value.length,
    0x010203,
  );
  assertEquals(big.decode(big.encode(payload), 0)?.next, 3 + 0x010203);
  // The largest: 2^24 - 1; one more does not fit.
  assertEquals(
    [...little.encode(new Uint8Array(2 ** 24 - 1)).subarray(0, 3)],
    [255, 255, 255],
  );
  frameError(
    () =>
      lengthPrefixed({ headerBytes: 3, maxFrameBytes: 2 ** 30 }).encode(
        new Uint8Array(2 ** 24),
      ),
    "FRAME_TOO_LARGE",
    "16777216 bytes, limit is 16777215",
  );
});

Deno.test("lengthPrefixed lengthIncludesHeader: the length counts the header, the value is the payload", () => {
  const framing = lengthPrefixed({ lengthIncludesHeader: true });
  assertEquals([...framing.encode(utf8("hi"))], [0, 0, 0, 6, 0x68, 0x69]);
  assertEquals(
    text(framing.decode(bytes(0, 0, 0, 6, 0x68, 0x69), 0)!.value),
    "hi",
  );
  assertEquals(framing.decode(bytes(0, 0, 0, 4), 0)?.value.length, 0);
  assertEquals(framing.decode(bytes(0, 0, 0, 7, 0x68, 0x69), 0), null);
  // maxFrameBytes bounds the payload, not the length field.
  const five = lengthPrefixed({ lengthIncludesHeader: true, maxFrameBytes: 5 });
  assertEquals(
    five.decode(bytes(0, 0, 0, 9, 1, 2, 3, 4, 5), 0)?.value.length,
    5,
  );
  frameError(
    () => five.decode(bytes(0, 0, 0, 10), 0),
    "FRAME_TOO_LARGE",
    "6 bytes, limit is 5",
  );
  frameError(
    () => five.encode(new Uint8Array(6)),
    "FRAME_TOO_LARGE",
    "limit is 5",
  );
  // A 1-byte header holds 255: the payload at most 254.
  const one = lengthPrefixed({ headerBytes: 1, lengthIncludesHeader: true });
  assertEquals(one.encode(new Uint8Array(254))[0], 255);
  frameError(
    () => one.encode(new Uint8Array(255)),
    "FRAME_TOO_LARGE",
    "limit is 254",
  );
});

Deno.test("lengthPrefixed lengthIncludesHeader: the writer's fast path (writeMany) writes what encode does", () => {
  const framing = lengthPrefixed({
    headerBytes: 2,
    lengthIncludesHeader: true,
  });
  const values = [utf8("ab"), utf8(""), utf8("xyz")];
  const target = new Uint8Array(64);
  const { next, end } = codecOf(framing)!.writeMany!(values, 0, target, 1);
  assertEquals(next, 3);
  assertEquals(
    hex(target.subarray(1, end)),
    hex(concat(values.map((value) => framing.encode(value)))),
  );
  assertEquals(hex(target.subarray(1, 5)), "00046162");
});

Deno.test("lengthPrefixed lengthIncludesHeader: a length smaller than the header is BAD_HEADER", () => {
  for (const headerBytes of [1, 2, 3, 4, 8] as const) {
    const framing = lengthPrefixed({ headerBytes, lengthIncludesHeader: true });
    for (let length = 0; length < headerBytes; length++) {
      const header = new Uint8Array(headerBytes);
      header[headerBytes - 1] = length;
      frameError(
        () => framing.decode(header, 0),
        "BAD_HEADER",
        `the header says ${length} bytes, fewer than its own ${headerBytes}`,
      );
      // decodeMany stops there without throwing; decode reports it.
      assertEquals(codecOf(framing)!.decodeMany!(header, 0, []), 0);
    }
  }
});

Deno.test("lengthField: PostgreSQL's messages, whole, with their type byte", () => {
  // ReadyForQuery 'I', then CommandComplete "SELECT 1", as a server sends them.
  const stream = concat([
    bytes(0x5a, 0, 0, 0, 5, 0x49),
    bytes(0x43, 0, 0, 0, 13),
    utf8("SELECT 1\0"),
  ]);
  const [ready, complete] = decodeAll(POSTGRES, stream);
  assertEquals([...ready], [0x5a, 0, 0, 0, 5, 0x49]);
  assertEquals(text(complete.subarray(5, -1)), "SELECT 1");
  // Views into the chunk, not copies.
  assertEquals(ready.buffer, stream.buffer);
  assertEquals(complete.byteOffset, stream.byteOffset + 6);
});

Deno.test("lengthField: encode fills in the length field of a copy, whatever the field held", () => {
  const query = concat([bytes(0x51, 9, 9, 9, 9), utf8("SELECT 1\0")]);
  const encoded = POSTGRES.encode(query);
  assertEquals([...encoded.subarray(0, 5)], [0x51, 0, 0, 0, 13]);
  assertEquals(text(encoded.subarray(5)), "SELECT 1\0");
  assertEquals(
    [...query.subarray(0, 5)],
    [0x51, 9, 9, 9, 9],
    "the caller's array",
  );
  assertEquals(
    [...MYSQL.encode(concat([bytes(0, 0, 0, 3), utf8("abc")]))],
    [3, 0, 0, 3, 0x61, 0x62, 0x63],
  );
  // Every width and byte order, against a 2-byte prefix.
  for (const headerBytes of [1, 2, 3, 4, 8] as const) {
    for (const littleEndian of [false, true]) {
      const framing = lengthField({ offset: 2, headerBytes, littleEndian });
      const frame = new Uint8Array(2 + headerBytes + 5).fill(0xee);
      const out = framing.encode(frame);
      const field = out.subarray(2, 2 + headerBytes);
      const expected = new Uint8Array(headerBytes);
      expected[littleEndian ? 0 : headerBytes - 1] = 5;
      assertEquals([...field], [...expected], `${headerBytes} ${littleEndian}`);
      assertEquals(framing.decode(out, 0)?.next, out.length);
    }
  }
});

Deno.test("lengthField: MySQL packets, the largest (2^24 - 1 payload bytes) with maxFrameBytes raised", () => {
  const mysql = lengthField({
    headerBytes: 3,
    littleEndian: true,
    adjustment: 1,
    maxFrameBytes: 2 ** 24 + 3,
  });
  const packet = mysql.encode(new Uint8Array(2 ** 24 + 3));
  assertEquals([...packet.subarray(0, 4)], [255, 255, 255, 0]);
  assertEquals(mysql.decode(packet, 0)?.value.length, 2 ** 24 + 3);
  // With the default limit (16 MiB, counted whole) it is refused at its header.
  frameError(
    () => MYSQL.decode(packet.subarray(0, 4), 0),
    "FRAME_TOO_LARGE",
    "16777219 bytes, limit is 16777216",
  );
});

Deno.test("lengthField: the options' errors are RangeErrors naming the value", () => {
  for (const headerBytes of [0, 5, 6, 7, 16, 2.5]) {
    const error = assertThrows(
      () => lengthField({ headerBytes } as unknown as LengthFieldOptions),
      RangeError,
    );
    assertStringIncludes(error.message, `got ${headerBytes}`);
  }
  for (const adjustment of [0.5, NaN, Infinity, 2 ** 53]) {
    assertThrows(() => lengthField({ adjustment }), RangeError, "adjustment");
  }
  for (const bad of [-1, 1.5, NaN]) {
    assertThrows(() => lengthField({ offset: bad }), RangeError, "offset");
    assertThrows(
      () => lengthField({ maxFrameBytes: bad }),
      RangeError,
      "maxFrameBytes",
    );
    assertThrows(
      () => varintPrefixed({ maxFrameBytes: bad }),
      RangeError,
      "maxFrameBytes",
    );
    assertThrows(
      () => netstring({ maxFrameBytes: bad }),
      RangeError,
      "maxFrameBytes",
    );
  }
});

Deno.test("lengthField: a field that makes the frame shorter than its header is BAD_HEADER", () => {
  // PostgreSQL: a length under 4 cannot count itself.
  for (let field = 0; field < 4; field++) {
    frameError(
      () => POSTGRES.decode(bytes(0x5a, 0, 0, 0, field), 0),
      "BAD_HEADER",
      `length field ${field} makes a frame of ${
        field + 1
      } bytes, shorter than its 5-byte header`,
    );
    assertEquals(
      codecOf(POSTGRES)!.decodeMany!(bytes(0x5a, 0, 0, 0, field), 0, []),
      0,
    );
  }
  assertEquals(POSTGRES.decode(bytes(0x5a, 0, 0, 0, 4), 0)?.next, 5);
});

Deno.test("lengthField: a frame over maxFrameBytes is refused from the field alone", () => {
  const framing = lengthField({
    offset: 1,
    headerBytes: 2,
    maxFrameBytes: 100,
  });
  assertEquals(framing.decode(bytes(7, 0, 97), 0), null); // 100: not yet here
  frameError(
    () => framing.decode(bytes(7, 0, 98), 0),
    "FRAME_TOO_LARGE",
    "length field announces: 101 bytes, limit is 100",
  );
  // An 8-byte field of 2^64 - 1.
  frameError(
    () =>
      lengthField({ headerBytes: 8 }).decode(new Uint8Array(8).fill(255), 0),
    "FRAME_TOO_LARGE",
    "limit is 16777216",
  );
});

Deno.test("lengthField: encode refuses a non-Uint8Array, a frame shorter than its header, one over the limit or the field", () => {
  assertThrows(
    () => POSTGRES.encode("Q" as unknown as Uint8Array),
    TypeError,
    "expected a Uint8Array, got string",
  );
  frameError(
    () => POSTGRES.encode(bytes(0x51, 0, 0, 0)),
    "BAD_HEADER",
    "4 bytes, shorter than the 5 bytes its header implies",
  );
  // MySQL's sequence byte is not counted: a frame needs it.
  frameError(
    () => MYSQL.encode(bytes(0, 0, 0)),
    "BAD_HEADER",
    "shorter than the 4 bytes",
  );
  frameError(
    () => lengthField({ maxFrameBytes: 10 }).encode(new Uint8Array(11)),
    "FRAME_TOO_LARGE",
    "11 bytes, limit is 10",
  );
  frameError(
    () => lengthField({ headerBytes: 1 }).encode(new Uint8Array(257)),
    "FRAME_TOO_LARGE",
    "the length field would say: 256 bytes, limit is 255 (the most 1 bytes hold)",
  );
});

Deno.test("varintPrefixed: lengths as protobuf's encoder writes them (Python, 7 bits a byte)", async () => {
  const lengths = [0, 1, 127, 128, 300, 16383, 16384, 2 ** 21, 2 ** 24];
  const expected = (await python(`
def varint(n):
    out = bytearray()
    while True:
        bits, n = n & 0x7F, n >> 7
        out.append(bits | (0x80 if n else 0))
        if not n:
            return bytes(out)
print(" ".join(varint(n).hex() for n in [${lengths}]))
`)).split(" ");
  const framing = varintPrefixed();
  lengths.forEach((length, i) => {
    const frame = framing.encode(new Uint8Array(length));
    const header = frame.subarray(0, frame.length - length);
    assertEquals(hex(header), expected[i], `length ${length}`);
    const decoded = framing.decode(frame, 0)!;
    assertEquals([decoded.value.length, decoded.next], [length, frame.length]);
  });
});

Deno.test("varintPrefixed: lengths written long (padded with 0x80 bytes) are read, up to 10 bytes", () => {
  const framing = varintPrefixed();
  const padded = bytes(
    0x83,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x00,
    1,
    2,
    3,
  );
  assertEquals([...framing.decode(padded, 0)!.value], [1, 2, 3]);
  assertEquals(framing.decode(padded.subarray(0, 9), 0), null);
  frameError(
    () => framing.decode(new Uint8Array(10).fill(0x80), 0),
    "BAD_HEADER",
    "goes on past 10 bytes",
  );
  assertEquals(
    codecOf(framing)!.decodeMany!(new Uint8Array(10).fill(0x80), 0, []),
    0,
  );
});

Deno.test("varintPrefixed: a length over 2^53 - 1 is BAD_HEADER, even over the limit", () => {
  const framing = varintPrefixed({ maxFrameBytes: 10 });
  // 2^53: seven 0x80 bytes then 0x10 (16 << 49).
  const over = bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10);
  frameError(
    () => framing.decode(over, 0),
    "BAD_HEADER",
    "over 2^53 - 1 after 8 bytes",
  );
  // Known from the 8th byte: no need to wait for the varint to end.
  frameError(
    () =>
      framing.decode(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x90), 0),
    "BAD_HEADER",
    "over 2^53 - 1",
  );
  assertEquals(codecOf(framing)!.decodeMany!(over, 0, []), 0);
  // 2^53 - 1 itself is merely too large.
  const max = bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f);
  frameError(
    () => framing.decode(max, 0),
    "FRAME_TOO_LARGE",
    "9007199254740991 bytes",
  );
});

Deno.test("varintPrefixed: over maxFrameBytes is FRAME_TOO_LARGE once the varint ends; encode refuses it too", () => {
  const framing = varintPrefixed({ maxFrameBytes: 200 });
  assertEquals(framing.decode(bytes(0xc8, 0x01), 0), null); // 200: waits
  assertEquals(framing.decode(bytes(0xc9), 0), null); // the varint goes on
  frameError(
    () => framing.decode(bytes(0xc9, 0x01), 0),
    "FRAME_TOO_LARGE",
    "varint length announces: 201 bytes, limit is 200",
  );
  assertEquals(codecOf(framing)!.decodeMany!(bytes(0xc9, 0x01), 0, []), 0);
  // The one-byte fast path of decodeMany checks the limit too.
  const small = varintPrefixed({ maxFrameBytes: 3 });
  assertEquals(codecOf(small)!.decodeMany!(bytes(4, 1, 2, 3, 4), 0, []), 0);
  frameError(
    () => small.decode(bytes(4), 0),
    "FRAME_TOO_LARGE",
    "4 bytes, limit is 3",
  );
  frameError(
    () => small.encode(new Uint8Array(4)),
    "FRAME_TOO_LARGE",
    "limit is 3",
  );
  assertThrows(
    () => small.encode([1] as unknown as Uint8Array),
    TypeError,
    "an array",
  );
});

Deno.test("netstring: exact bytes, as Python's b'%d:%s,' writes them", async () => {
  const framing = netstring();
  const values = ["", "hello", "0123456789", ":,"].map(utf8);
  const ours = concat(values.map((value) => framing.encode(value)));
  const theirs = await python(
    `print(b"".join(b"%d:%s," % (len(s), s) for s in [b"", b"hello", b"0123456789", b":,"]).decode())`,
  );
  assertEquals(text(ours), theirs);
  assertEquals(decodeAll(framing, ours).map(text), [
    "",
    "hello",
    "0123456789",
    ":,",
  ]);
});

Deno.test("netstring: malformed lengths and a missing comma are BAD_HEADER", () => {
  const framing = netstring();
  const cases: [string, string][] = [
    [":hello,", 'its length is empty (":" first)'],
    ["05:hello,", "leading zero"],
    ["00:,", "leading zero"],
    [" 5:hello,", 'expected a digit or ":" in its length, got " "'],
    ["5 :hello,", 'got " "'],
    ["-1:", 'got "-"'],
    ["+5:hello,", 'got "+"'],
    ["5\n", "got 0x0a"],
    ["5:hello;", 'expected "," after its 5-byte payload, got ";"'],
    ["5:hello\n", "got 0x0a"],
    ["0:x", 'got "x"'],
  ];
  for (const [stream, message] of cases) {
    frameError(() => framing.decode(utf8(stream), 0), "BAD_HEADER", message);
    assertEquals(codecOf(framing)!.decodeMany!(utf8(stream), 0, []), 0, stream);
  }
  // "0" itself is fine.
  assertEquals(framing.decode(utf8("0:,"), 0)?.next, 3);
});

Deno.test("netstring: a length over the limit is refused from its digits, before its colon", () => {
  const framing = netstring({ maxFrameBytes: 1000 });
  assertEquals(framing.decode(utf8("1000"), 0), null);
  frameError(
    () => framing.decode(utf8("1001"), 0),
    "FRAME_TOO_LARGE",
    "at least: 1001 bytes, limit is 1000",
  );
  frameError(
    () => framing.decode(utf8("99999"), 0),
    "FRAME_TOO_LARGE",
    "at least: 9999 bytes",
  );
  assertEquals(codecOf(framing)!.decodeMany!(utf8("0:,1001:"), 0, []), 3);
  // An endless run of digits: refused after a few bytes, in 1-byte pushes too.
  const decoder = new FrameDecoder(framing);
  let pushed = 0;
  const error = assertThrows(() => {
    for (; pushed < 1000; pushed++) decoder.push(utf8("9"));
  }, FrameError);
  assertEquals([error.code, pushed], ["FRAME_TOO_LARGE", 3]);
  frameError(
    () => framing.encode(new Uint8Array(1001)),
    "FRAME_TOO_LARGE",
    "limit is 1000",
  );
  assertThrows(
    () => framing.encode(null as unknown as Uint8Array),
    TypeError,
    "null",
  );
});

Deno.test("delimited trimCr: LF and CRLF lines; one \\r trimmed; a \\r elsewhere kept", () => {
  const framing = delimited({ trimCr: true });
  assertEquals(
    decodeAll(framing, utf8("a\r\nb\n\r\n\n\r\r\nc\rd\n")).map(text),
    ["a", "b", "", "", "\r", "c\rd"],
  );
  // Encoding writes "\n" alone.
  assertEquals(text(framing.encode(utf8("PING"))), "PING\n");
});

Deno.test("delimited trimCr: the limit counts the line without its \\r\\n", () => {
  const framing = delimited({ trimCr: true, maxFrameBytes: 3 });
  assertEquals(text(framing.decode(utf8("abc\r\n"), 0)!.value), "abc");
  assertEquals(text(framing.decode(utf8("abc\n"), 0)!.value), "abc");
  assertEquals(framing.decode(utf8("abc\r"), 0), null); // maybe a CRLF
  frameError(
    () => framing.decode(utf8("abcd\n"), 0),
    "FRAME_TOO_LARGE",
    "the line is: 4 bytes, limit is 3",
  );
  frameError(
    () => framing.decode(utf8("abcd"), 0),
    "FRAME_TOO_LARGE",
    "no delimiter within the limit, buffered: 4 bytes",
  );
  frameError(
    () => framing.decode(utf8("abc\rx"), 0),
    "FRAME_TOO_LARGE",
    "buffered: 5 bytes",
  );
  frameError(
    () => framing.decode(utf8("abc\r\r\n"), 0),
    "FRAME_TOO_LARGE",
    "limit is 3",
  );
  frameError(
    () => framing.encode(utf8("abcd")),
    "FRAME_TOO_LARGE",
    "limit is 3",
  );
});

Deno.test('delimited trimCr: only with "\\n"; a value ending in \\r or holding \\n cannot be encoded', () => {
  for (const delimiter of ["\r\n", "x", utf8("\n\n")]) {
    assertThrows(
      () => delimited({ delimiter, trimCr: true }),
      TypeError,
      'trimCr works with the delimiter "\\n" only',
    );
  }
  assertEquals(
    text(delimited({ delimiter: utf8("\n"), trimCr: true }).encode(utf8("a"))),
    "a\n",
  );
  const framing = delimited({ trimCr: true });
  assertThrows(() => framing.encode(utf8("a\r")), TypeError, 'ends in "\\r"');
  assertThrows(
    () => framing.encode(utf8("a\nb")),
    TypeError,
    "contains the delimiter",
  );
  // Without trimCr a trailing "\r" is an ordinary byte.
  assertEquals(text(delimited().encode(utf8("a\r"))), "a\r\n");
});

// ---------------------------------------------------------------------------
// Limits before allocation, linear cost

/** A framing with `codec`'s fast paths whose decode calls and examined bytes are counted. */
function counted(framing: Framing<Uint8Array>) {
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

Deno.test("read_long_line_small_chunks: trimCr, an 8 MiB line of \\r bytes in 1 KiB chunks, each byte scanned about once", () => {
  const framing = delimited({ trimCr: true, maxFrameBytes: 8 * MiB });
  const { framing: wrapped, counts } = counted(framing);
  const line = new Uint8Array(8 * MiB).fill(0x0d);
  line[0] = 0x61;
  const stream = concat([line, utf8("\r\nnext\n")]);
  const decoder = new FrameDecoder(wrapped);
  const values: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += KiB) {
    values.push(...decoder.push(stream.subarray(at, at + KiB)));
  }
  decoder.end();
  assertEquals(values.map((v) => v.length), [8 * MiB, 4]);
  assert(
    counts.examined < 2 * stream.length,
    `examined ${counts.examined} bytes for ${stream.length}`,
  );
});

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
