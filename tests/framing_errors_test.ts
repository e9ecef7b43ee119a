// Every error the framings throw: each FrameError code, each RangeError and
// TypeError for bad options or values, and the decoder staying failed.

import {
  decodeFrames,
  DecoderStream,
  delimited,
  type DelimitedOptions,
  encodeFrame,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  lengthPrefixed,
  type LengthPrefixOptions,
  message,
  type MessageOptions,
} from "../framing.ts";
import { codecOf } from "../framing/types.ts";
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
  concat,
} from "./_helpers/assert.ts";
import { text, utf8 } from "./_helpers/bytes.ts";

/** Asserts `fn` throws a FrameError with `code`; returns it. */
function assertFrameError(fn: () => unknown, code: FrameErrorCode): FrameError {
  const error: FrameError = assertThrows(fn, FrameError);
  assertEquals(error.code, code, error.message);
  assertEquals(error.name, "FrameError");
  return error;
}

/** A message wire frame with `json` as its header text, verbatim. */
function rawMessage(
  json: string | Uint8Array,
  body: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const header = typeof json === "string" ? utf8(json) : json;
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, header.length);
  return concat([length, header, body]);
}

// ---------------------------------------------------------------------------
// FRAME_TOO_LARGE: length-prefixed

Deno.test("read_max_frame_len: a header over the limit throws as soon as it is complete", () => {
  const decoder = new FrameDecoder(lengthPrefixed({ maxFrameBytes: 16 }));
  assertEquals(decoder.push(new Uint8Array([0, 0])), []); // half a header: wait
  const error = assertFrameError(
    () => decoder.push(new Uint8Array([0, 17])), // no payload byte yet
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "17");
  assertStringIncludes(error.message, "16");
});

Deno.test("read_max_frame_len: a header announcing exactly the limit waits for its payload", () => {
  const decoder = new FrameDecoder(lengthPrefixed({ maxFrameBytes: 16 }));
  assertEquals(decoder.push(new Uint8Array([0, 0, 0, 16])), []);
  assertEquals(decoder.push(new Uint8Array(16).fill(1)), [
    new Uint8Array(16).fill(1),
  ]);
});

Deno.test("read_max_frame_len: a 4 GiB header with the default limit, header alone", () => {
  const error = assertFrameError(
    () =>
      new FrameDecoder(lengthPrefixed()).push(
        new Uint8Array([255, 255, 255, 255]),
      ),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "4294967295");
  assertStringIncludes(error.message, "16777216");
});

Deno.test("read_max_frame_len: a header with the top bit set is a large length, not a negative one", () => {
  const framing = lengthPrefixed({ maxFrameBytes: 2 ** 31 - 1 });
  const big = assertFrameError(
    () => framing.decode(new Uint8Array([0x80, 0, 0, 0]), 0),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(big.message, "2147483648");
  const little = assertFrameError(
    () =>
      lengthPrefixed({ littleEndian: true, maxFrameBytes: 2 ** 31 - 1 }).decode(
        new Uint8Array([0, 0, 0, 0x80]),
        0,
      ),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(little.message, "2147483648");
  const state = { scanned: 0, need: 0 };
  assertEquals(
    codecOf(lengthPrefixed({ maxFrameBytes: 2 ** 32 }))?.decode(
      new Uint8Array([0xff, 0xff, 0xff, 0xfe]),
      0,
      state,
    ),
    null,
  );
  assertEquals(state.need, 4 + 0xfffffffe);
});

Deno.test("read_max_frame_len: 8-byte headers past 2**53 are too large in both byte orders", () => {
  for (const littleEndian of [false, true]) {
    const framing = lengthPrefixed({
      headerBytes: 8,
      littleEndian,
      maxFrameBytes: Number.MAX_SAFE_INTEGER,
    });
    assertFrameError(
      () => framing.decode(new Uint8Array(8).fill(255), 0),
      "FRAME_TOO_LARGE",
    );
    const justOver = new Uint8Array(8);
    new DataView(justOver.buffer).setBigUint64(0, 2n ** 53n, littleEndian);
    assertFrameError(() => framing.decode(justOver, 0), "FRAME_TOO_LARGE");
  }
});

Deno.test("write_max_frame_len: encoding a payload over the limit throws", () => {
  const framing = lengthPrefixed({ maxFrameBytes: 4 });
  assertEquals(framing.encode(new Uint8Array(4)).length, 8);
  const error = assertFrameError(
    () => framing.encode(new Uint8Array(5)),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "5");
  assertFrameError(
    () => encodeFrame(new Uint8Array(5), { maxFrameBytes: 4 }),
    "FRAME_TOO_LARGE",
  );
  // The writer's path (measure, then write) refuses it the same way.
  assertFrameError(
    () => codecOf(framing)?.measure(new Uint8Array(5)),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("write_max_frame_len: a 1-byte header cannot say 256, a 2-byte header 65536", () => {
  assertEquals(encodeFrame(new Uint8Array(255), { headerBytes: 1 })[0], 255);
  assertFrameError(
    () => encodeFrame(new Uint8Array(256), { headerBytes: 1 }),
    "FRAME_TOO_LARGE",
  );
  // Even when maxFrameBytes says more: the header width wins.
  assertFrameError(
    () =>
      encodeFrame(new Uint8Array(256), { headerBytes: 1, maxFrameBytes: 1000 }),
    "FRAME_TOO_LARGE",
  );
  assertEquals(
    encodeFrame(new Uint8Array(65535), { headerBytes: 2 }).length,
    65537,
  );
  assertFrameError(
    () =>
      encodeFrame(new Uint8Array(65536), {
        headerBytes: 2,
        littleEndian: true,
      }),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("decodeFrames: a header over the limit throws", () => {
  const bytes = concat([encodeFrame(utf8("ok")), new Uint8Array([0, 0, 1, 0])]);
  assertFrameError(
    () => decodeFrames(bytes, { maxFrameBytes: 255 }),
    "FRAME_TOO_LARGE",
  );
  assertEquals(decodeFrames(bytes, { maxFrameBytes: 256 }).frames.map(text), [
    "ok",
  ]);
});

// ---------------------------------------------------------------------------
// FRAME_TOO_LARGE: delimited

Deno.test("delimited: a value of exactly maxFrameBytes, then the delimiter, is fine", () => {
  const decoder = new FrameDecoder(delimited({ maxFrameBytes: 4 }));
  assertEquals(decoder.push(utf8("abcd")), []);
  assertEquals(decoder.push(utf8("\n")).map(text), ["abcd"]);
  assertEquals(
    new FrameDecoder(delimited({ maxFrameBytes: 4 })).push(utf8("abcd\n")).map(
      text,
    ),
    [
      "abcd",
    ],
  );
});

Deno.test("delimited: one byte more than maxFrameBytes without a delimiter throws at once", () => {
  assertFrameError(
    () => new FrameDecoder(delimited({ maxFrameBytes: 4 })).push(utf8("abcde")),
    "FRAME_TOO_LARGE",
  );
  const decoder = new FrameDecoder(delimited({ maxFrameBytes: 4 }));
  assertEquals(decoder.push(utf8("ab")), []);
  assertEquals(decoder.push(utf8("cd")), []);
  assertFrameError(() => decoder.push(utf8("e")), "FRAME_TOO_LARGE");
  // A complete over-long line is no better.
  assertFrameError(
    () =>
      new FrameDecoder(delimited({ maxFrameBytes: 4 })).push(utf8("abcde\n")),
    "FRAME_TOO_LARGE",
  );
  // maxFrameBytes 0 allows only empty lines.
  const empty = new FrameDecoder(delimited({ maxFrameBytes: 0 }));
  assertEquals(empty.push(utf8("\n\n")).map(text), ["", ""]);
  assertFrameError(() => empty.push(utf8("a")), "FRAME_TOO_LARGE");
});

Deno.test("delimited: the limit counts the value, not a multi-byte delimiter split after it", () => {
  const framing = () => delimited({ delimiter: "\r\n", maxFrameBytes: 4 });
  // "abcd\r" may still be "abcd\r\n": wait.
  const decoder = new FrameDecoder(framing());
  assertEquals(decoder.push(utf8("abcd\r")), []);
  assertEquals(decoder.push(utf8("\n")).map(text), ["abcd"]);
  // "abc--X" may still be "abc" + "--XY--".
  const long = new FrameDecoder(
    delimited({ delimiter: "--XY--", maxFrameBytes: 4 }),
  );
  assertEquals(long.push(utf8("abc--X")), []);
  assertEquals(long.push(utf8("Y--")).map(text), ["abc"]);
  // "abcd\r\r" cannot: no delimiter can start within the limit.
  assertFrameError(
    () => new FrameDecoder(framing()).push(utf8("abcd\r\r")),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("delimited: a multi-byte delimiter, one byte over with no delimiter begun, throws at once", () => {
  // "abcde" cannot become a line of at most 4 bytes: nothing in it can start
  // "\r\n" at index 4 or before. The decoder must say so now, not after one
  // more byte arrives (a peer that waits would otherwise hang the reader).
  assertFrameError(
    () =>
      new FrameDecoder(delimited({ delimiter: "\r\n", maxFrameBytes: 4 })).push(
        utf8("abcde"),
      ),
    "FRAME_TOO_LARGE",
  );
  const long = new FrameDecoder(
    delimited({ delimiter: "--XY--", maxFrameBytes: 4 }),
  );
  assertEquals(long.push(utf8("ab")), []);
  assertEquals(long.push(utf8("cd-")), []); // "-" at index 4 may start the delimiter
  assertFrameError(() => long.push(utf8("a")), "FRAME_TOO_LARGE");
});

Deno.test("delimited: encoding a line over maxFrameBytes throws", () => {
  const framing = delimited({ maxFrameBytes: 3 });
  assertEquals(text(framing.encode(utf8("abc"))), "abc\n");
  assertFrameError(() => framing.encode(utf8("abcd")), "FRAME_TOO_LARGE");
});

// ---------------------------------------------------------------------------
// FRAME_TOO_LARGE: message

Deno.test("message: a header length over maxHeaderBytes throws with only the length read", () => {
  const decoder = new FrameDecoder(message({ maxHeaderBytes: 256 }));
  assertEquals(decoder.push(new Uint8Array([0, 0, 1])), []);
  const error = assertFrameError(
    () => decoder.push(new Uint8Array([1])),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "257");
  // Exactly the limit is fine.
  const json = `{"size":0,"pad":"${"x".repeat(256 - 19)}"}`;
  assertEquals(utf8(json).length, 256);
  assertEquals(
    new FrameDecoder(message({ maxHeaderBytes: 256 })).push(rawMessage(json))
      .length,
    1,
  );
  // Little-endian lengths are checked the same way.
  assertFrameError(
    () =>
      message({ littleEndian: true, maxHeaderBytes: 256 }).decode(
        new Uint8Array([1, 1, 0, 0]),
        0,
      ),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("message: a size over maxBodyBytes throws before the body arrives", () => {
  const framing = message({ maxBodyBytes: 10 });
  const decoder = new FrameDecoder(framing);
  const error = assertFrameError(
    () => decoder.push(rawMessage('{"size":11}')), // header only, no body
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "11");
  // A body of exactly maxBodyBytes is fine.
  const ok = new FrameDecoder(framing);
  assertEquals(ok.push(rawMessage('{"size":10}')), []);
  assertEquals(ok.push(new Uint8Array(10)).length, 1);
});

Deno.test("message: encoding a body over maxBodyBytes or a header over maxHeaderBytes throws", () => {
  assertFrameError(
    () =>
      message({ maxBodyBytes: 2 }).encode({
        header: {},
        body: new Uint8Array(3),
      }),
    "FRAME_TOO_LARGE",
  );
  assertFrameError(
    () =>
      message({ maxHeaderBytes: 10 }).encode({
        header: { name: "long" },
        body: new Uint8Array(0),
      }),
    "FRAME_TOO_LARGE",
  );
  assertFrameError(
    () =>
      message({ maxHeaderBytes: 10 }).head.encode({ name: "long", size: 1 }),
    "FRAME_TOO_LARGE",
  );
});

// ---------------------------------------------------------------------------
// BAD_HEADER

const badHeaders: [string, string | Uint8Array][] = [
  ["not JSON", "{size:3}"],
  ["empty", ""],
  ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d])],
  ["an array", "[3]"],
  ["a number", "3"],
  ["null", "null"],
  ["a string", '"size"'],
  ["missing size", '{"name":"a"}'],
  ["size -1", '{"size":-1}'],
  ["size 1.5", '{"size":1.5}'],
  ['size "3"', '{"size":"3"}'],
  ["size 2**53", '{"size":9007199254740992}'],
  ["size null", '{"size":null}'],
];

for (const [what, json] of badHeaders) {
  Deno.test(`message: a header that is ${what} is BAD_HEADER`, () => {
    const bytes = rawMessage(json, utf8("abc"));
    assertFrameError(() => message().decode(bytes, 0), "BAD_HEADER");
    assertFrameError(() => message().head.decode(bytes, 0), "BAD_HEADER");
    assertFrameError(
      () => new FrameDecoder(message()).push(bytes),
      "BAD_HEADER",
    );
  });
}

Deno.test("message: BAD_HEADER says what was wrong and keeps the parse error as cause", () => {
  const notJson = assertFrameError(
    () => message().decode(rawMessage("{x"), 0),
    "BAD_HEADER",
  );
  assertInstanceOf(notJson.cause, Error);
  const array = assertFrameError(
    () => message().decode(rawMessage("[]"), 0),
    "BAD_HEADER",
  );
  assertStringIncludes(array.message, "array");
  const size = assertFrameError(
    () => message().decode(rawMessage('{"size":"3"}'), 0),
    "BAD_HEADER",
  );
  assertStringIncludes(size.message, '"3"');
});

Deno.test("message: the largest safe size is a valid header (2**53 - 1)", () => {
  const state = { scanned: 0, need: 0 };
  const bytes = rawMessage(`{"size":${Number.MAX_SAFE_INTEGER}}`);
  assertEquals(message().head.decode(bytes, 0)?.value, {
    size: Number.MAX_SAFE_INTEGER,
  });
  assertFrameError(
    () => codecOf(message())?.decode(bytes, 0, state),
    "FRAME_TOO_LARGE",
  );
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

Deno.test("DecoderStream: a stream ending mid-frame errors with INCOMPLETE_FRAME", async () => {
  const bytes = concat([
    encodeFrame(utf8("a")),
    encodeFrame(utf8("bc")).subarray(0, 5),
  ]);
  const seen: string[] = [];
  const error: FrameError = await assertRejects(async () => {
    const stream = ReadableStream.from([bytes]).pipeThrough(
      new DecoderStream(lengthPrefixed()),
    );
    for await (const value of stream) seen.push(text(value));
  }, FrameError);
  assertEquals(error.code, "INCOMPLETE_FRAME");
  assertEquals(seen, ["a"]); // the whole frame before it was delivered
});

Deno.test("DecoderStream: a bad frame errors the stream", async () => {
  const error: FrameError = await assertRejects(
    () =>
      Array.fromAsync(
        ReadableStream.from([rawMessage("[1]")]).pipeThrough(
          new DecoderStream(message()),
        ),
      ),
    FrameError,
  );
  assertEquals(error.code, "BAD_HEADER");
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

// ---------------------------------------------------------------------------
// Bad options and bad values

Deno.test("lengthPrefixed: headerBytes other than 1, 2, 3, 4, 8 is a RangeError", () => {
  for (const headerBytes of [0, 5, 6, 16, 4.5]) {
    const error: RangeError = assertThrows(
      () => lengthPrefixed({ headerBytes } as unknown as LengthPrefixOptions),
      RangeError,
    );
    assertStringIncludes(error.message, String(headerBytes));
  }
  assertThrows(
    () =>
      encodeFrame(
        new Uint8Array(1),
        { headerBytes: 7 } as unknown as LengthPrefixOptions,
      ),
    RangeError,
  );
});

Deno.test("limits that are not non-negative safe integers are RangeErrors", () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assertThrows(
      () => lengthPrefixed({ maxFrameBytes: bad }),
      RangeError,
      String(bad),
    );
    assertThrows(
      () => delimited({ maxFrameBytes: bad }),
      RangeError,
      String(bad),
    );
    assertThrows(
      () => message({ maxHeaderBytes: bad } as MessageOptions),
      RangeError,
    );
    assertThrows(
      () => message({ maxBodyBytes: bad } as MessageOptions),
      RangeError,
    );
  }
  // Zero is a limit (only empty payloads).
  assertEquals(
    lengthPrefixed({ maxFrameBytes: 0 }).encode(new Uint8Array(0)).length,
    4,
  );
});

Deno.test("delimited: an empty delimiter is a TypeError", () => {
  const empties: DelimitedOptions[] = [{ delimiter: "" }, {
    delimiter: new Uint8Array(0),
  }];
  for (const options of empties) {
    assertThrows(() => delimited(options), TypeError, "empty");
  }
});

Deno.test("delimited: encoding a line that contains its delimiter is a TypeError", () => {
  assertThrows(() => delimited().encode(utf8("a\nb")), TypeError, "index 1");
  assertThrows(
    () => delimited({ delimiter: "\r\n" }).encode(utf8("ab\r\n")),
    TypeError,
  );
  assertThrows(
    () => delimited({ delimiter: "--XY--" }).encode(utf8("a--XY--b")),
    TypeError,
  );
  // A part of the delimiter is an ordinary byte.
  assertEquals(
    text(delimited({ delimiter: "\r\n" }).encode(utf8("a\rb\n"))),
    "a\rb\n\r\n",
  );
});

Deno.test("delimited: encoding a line whose end would join the delimiter early is a TypeError", () => {
  // "a--XY" + "--XY--" is "a--XY--XY--": the decoder would find the delimiter
  // at index 1 and return "a". Such a line cannot round-trip.
  for (const line of ["a--XY", "a--XY-", "--XY"]) {
    assertThrows(
      () => delimited({ delimiter: "--XY--" }).encode(utf8(line)),
      TypeError,
      "form a delimiter",
      line,
    );
  }
  assertThrows(
    () => delimited({ delimiter: "\n\n" }).encode(utf8("a\n")),
    TypeError,
  );
  // Near misses round-trip.
  for (const line of ["a--X", "a-XY", "--Y", "-", "--XY-a"]) {
    const framing = delimited({ delimiter: "--XY--" });
    const decoded = framing.decode(framing.encode(utf8(line)), 0);
    assertEquals(decoded && text(decoded.value), line);
  }
});

Deno.test("encoding something that is not a Uint8Array is a TypeError", () => {
  const notBytes = "abc" as unknown as Uint8Array;
  assertThrows(
    () => lengthPrefixed().encode(notBytes),
    TypeError,
    "Uint8Array",
  );
  assertThrows(() => encodeFrame(notBytes), TypeError);
  assertThrows(() => delimited().encode(notBytes), TypeError);
  assertThrows(
    () => message().encode({ header: {}, body: notBytes }),
    TypeError,
  );
});

Deno.test("message: a header that is not an object, or a head without size, is a TypeError", () => {
  const body = new Uint8Array(0);
  for (const header of [null, [1], "x", 3]) {
    assertThrows(
      () =>
        message().encode({
          header: header as unknown as Record<string, unknown>,
          body,
        }),
      TypeError,
    );
  }
  assertThrows(() => message().head.encode({ name: "a" }), TypeError, "size");
  assertThrows(() => message().head.encode({ size: -1 }), TypeError, "size");
  assertThrows(() => message().head.encode({ size: "3" }), TypeError, "size");
});
