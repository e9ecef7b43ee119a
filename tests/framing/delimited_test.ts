// framing/delimited.ts: delimited(). Exact bytes, empty lines, a delimiter of
// its own, trimCr, maxFrameBytes (counting the value, not the delimiter), the
// values it refuses to encode, and linear cost on long lines in small chunks.

import {
  delimited,
  type DelimitedOptions,
  FrameDecoder,
} from "../../framing.ts";
import {
  CODEC,
  type CodecFraming,
  codecOf,
  type DecodeState,
} from "../../framing/types.ts";
import {
  assert,
  assertEquals,
  assertThrows,
  concat,
  equals,
} from "../_helpers/assert.ts";
import { hex, KiB, MiB, text, utf8 } from "../_helpers/bytes.ts";
import {
  assertFrameError,
  counted,
  decodeAll,
  frameError,
} from "../_helpers/framing.ts";

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

Deno.test("delimited: the framing keeps its own copy of a Uint8Array delimiter", () => {
  const delimiter = new Uint8Array([0x7c]); // "|"
  const framing = delimited({ delimiter });
  delimiter[0] = 0x2c; // the caller reuses its array
  assertEquals(text(framing.encode(utf8("a"))), "a|");
  assertEquals(decodeAll(framing, [utf8("a,b|")]).map(text), ["a,b"]);
});

Deno.test("delimited: exact bytes: the value, then the delimiter", () => {
  assertEquals(text(delimited().encode(utf8("hi"))), "hi\n");
  assertEquals(
    text(delimited({ delimiter: "\r\n" }).encode(utf8("hi"))),
    "hi\r\n",
  );
  assertEquals(
    [...delimited({ delimiter: new Uint8Array([0, 255]) }).encode(utf8("a"))],
    [0x61, 0, 255],
  );
  assertEquals(
    text(delimited({ delimiter: "--XY--" }).encode(utf8("a-X"))),
    "a-X--XY--",
  );
});

Deno.test("delimited: empty lines are values, and a trailing partial is not", () => {
  assertEquals(
    decodeAll(delimited(), [utf8("\n\na\n\n")]).map(text),
    ["", "", "a", ""],
  );
  const crlf = delimited({ delimiter: "\r\n" });
  assertEquals(decodeAll(crlf, [utf8("\r\n\r\n")]).map(text), ["", ""]);
  assertEquals(hex(crlf.encode(new Uint8Array(0))), "0d0a");
  const decoder = new FrameDecoder(delimited());
  assertEquals(decoder.push(utf8("a\nb")).map(text), ["a"]);
  assertEquals(decoder.buffered, 1); // "b" waits for its delimiter
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

Deno.test("read_long_line_small_chunks: an 8 MiB line fed in 1 KiB chunks, each byte scanned about once", () => {
  const line = new Uint8Array(8 * MiB).fill(0x61);
  for (let i = 0; i < line.length; i += 1000) line[i] = 0x0d; // "\r" without "\n"
  const framing = delimited({ delimiter: "\r\n", maxFrameBytes: 8 * MiB });
  // Count the bytes decode() searches, using the resume point it is given.
  let searched = 0;
  const codec = codecOf(framing)!;
  const counting: CodecFraming<Uint8Array> = {
    encode: (value) => framing.encode(value),
    decode: (bytes, offset) => framing.decode(bytes, offset),
    [CODEC]: {
      ...codec,
      measure: (value) => codec.measure(value),
      write: (value, target, offset) => codec.write(value, target, offset),
      decode(bytes: Uint8Array, offset: number, state: DecodeState) {
        searched += bytes.length - offset - state.scanned;
        return codec.decode(bytes, offset, state);
      },
    },
  };
  const stream = concat([framing.encode(line), framing.encode(utf8("next"))]);
  const decoder = new FrameDecoder(counting);
  const values: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += KiB) {
    values.push(...decoder.push(stream.subarray(at, at + KiB)));
  }
  decoder.end();
  assertEquals(values.length, 2);
  assert(equals(values[0], line), "the 8 MiB line differs");
  assertEquals(text(values[1]), "next");
  // Rescanning from the line's start on every chunk would search ~32 GiB.
  assert(
    searched < 2 * stream.length,
    `searched ${searched} bytes for ${stream.length}`,
  );
});
