// The end of a stream (Framing.decodeEnd, delimited's acceptUnterminated)
// through every driver, and crlfLines: written "\r\n", read "\r\n" or "\n".
// Each new option keeps the sticky-packet property: random splits, 1-byte
// splits and one chunk give the same values, with a fixed seed.

import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import {
  crlfLines,
  DecoderStream,
  delimited,
  FrameDecoder,
  FrameError,
  type Framing,
} from "../../framing.ts";
import { connect, listen } from "../../mod.ts";
import { Rng } from "../_helpers/random.ts";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Every value of `chunks` through a FrameDecoder, `end()`'s included. */
function decodeAll(framing: Framing<Uint8Array>, chunks: Uint8Array[]) {
  const decoder = new FrameDecoder(framing);
  const values: string[] = [];
  for (const chunk of chunks) values.push(...decoder.push(chunk).map(text));
  values.push(...decoder.end().map(text));
  return values;
}

/** `bytes` cut at random places (some chunks empty). */
function randomSplit(rng: Rng, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = rng.int(Math.min(8, bytes.length - at) + 1);
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

const oneByteSplit = (bytes: Uint8Array) =>
  Array.from(bytes, (byte) => new Uint8Array([byte]));

/** Asserts that one chunk, 1-byte chunks and random splits give `expected`. */
function checkSplits(
  framing: () => Framing<Uint8Array>,
  stream: Uint8Array,
  expected: string[],
  rng: Rng,
  label: string,
): void {
  assertEquals(decodeAll(framing(), [stream]), expected, `${label}: one chunk`);
  assertEquals(
    decodeAll(framing(), oneByteSplit(stream)),
    expected,
    `${label}: 1-byte chunks`,
  );
  for (let i = 0; i < 20; i++) {
    assertEquals(
      decodeAll(framing(), randomSplit(rng, stream)),
      expected,
      `${label}: random split ${i}`,
    );
  }
}

Deno.test("delimited acceptUnterminated: the last line without its delimiter, any split", () => {
  const rng = new Rng(0x21e0f);
  const cases: [string, string[]][] = [
    ["a\nbb\nccc", ["a", "bb", "ccc"]],
    ["a\nbb\n", ["a", "bb"]],
    ["", []],
    ["\n", [""]],
    ["tail", ["tail"]],
  ];
  for (const [input, expected] of cases) {
    checkSplits(
      () => delimited({ acceptUnterminated: true }),
      utf8(input),
      expected,
      rng,
      JSON.stringify(input),
    );
  }
  // A delimiter cut short stays in the last value.
  checkSplits(
    () => delimited({ delimiter: "\r\n", acceptUnterminated: true }),
    utf8("x\r\ny\r"),
    ["x", "y\r"],
    rng,
    "cut-short CRLF",
  );
  // Random lines, with and without a final delimiter.
  for (let round = 0; round < 30; round++) {
    const lines = Array.from(
      { length: rng.int(6) + 1 },
      () => "abc\r".slice(0, rng.int(4)).repeat(rng.int(3)),
    );
    const terminated = rng.chance(0.5);
    let input = lines.join("\n") + (terminated ? "\n" : "");
    const expected = [...lines];
    if (!terminated && lines[lines.length - 1] === "") expected.pop();
    if (expected.length === 0) input = "";
    checkSplits(
      () => delimited({ acceptUnterminated: true }),
      utf8(input),
      expected,
      rng,
      `round ${round} ${JSON.stringify(input)}`,
    );
  }
});

Deno.test("delimited: without acceptUnterminated a last line is INCOMPLETE_FRAME, as before", () => {
  const decoder = new FrameDecoder(delimited());
  assertEquals(decoder.push(utf8("a\nb")).map(text), ["a"]);
  const error = assertThrows(() => decoder.end(), FrameError);
  assertEquals(error.code, "INCOMPLETE_FRAME");
});

Deno.test("delimited acceptUnterminated: a last line over maxFrameBytes is FRAME_TOO_LARGE", () => {
  const decoder = new FrameDecoder(
    delimited({
      delimiter: "\r\n",
      maxFrameBytes: 3,
      acceptUnterminated: true,
    }),
  );
  // "abc\r" may still end "abc\r\n": decode waits; at the end it is 4 bytes.
  assertEquals(decoder.push(utf8("abc\r")), []);
  const error = assertThrows(() => decoder.end(), FrameError);
  assertEquals(error.code, "FRAME_TOO_LARGE");
});

Deno.test("crlfLines: writes \\r\\n, reads \\r\\n or a bare \\n, any split", () => {
  const rng = new Rng(0xc71f);
  const lines = crlfLines();
  assertEquals(text(lines.encode(utf8("EHLO x"))), "EHLO x\r\n");
  // A value's own last "\r" survives the trip: one "\r" goes with the "\n".
  assertEquals(text(lines.encode(utf8("a\r"))), "a\r\r\n");
  assertEquals(decodeAll(crlfLines(), [lines.encode(utf8("a\r"))]), ["a\r"]);
  assertThrows(() => lines.encode(utf8("a\nb")), TypeError);
  checkSplits(
    () => crlfLines(),
    utf8("+OK\r\n+PONG\n\r\nlast\r\n"),
    ["+OK", "+PONG", "", "last"],
    rng,
    "mixed endings",
  );
  checkSplits(
    () => crlfLines({ acceptUnterminated: true }),
    utf8("a\r\nb\nc"),
    ["a", "b", "c"],
    rng,
    "unterminated",
  );
  // Random lines written by crlfLines come back whatever the split.
  for (let round = 0; round < 30; round++) {
    const values = Array.from(
      { length: rng.int(5) + 1 },
      () => text(rng.bytes(rng.int(6), utf8("ab\r "))),
    );
    const stream = new Uint8Array(
      values.flatMap((value) => [...lines.encode(utf8(value))]),
    );
    checkSplits(() => crlfLines(), stream, values, rng, `round ${round}`);
  }
});

Deno.test("crlfLines: maxFrameBytes does not count the line ending", () => {
  const decoder = new FrameDecoder(crlfLines({ maxFrameBytes: 2 }));
  assertEquals(decoder.push(utf8("ab\r\nab\n")).map(text), ["ab", "ab"]);
  const error = assertThrows(() => decoder.push(utf8("abc")), FrameError);
  assertEquals(error.code, "FRAME_TOO_LARGE");
});

Deno.test("a user's framing with decodeEnd: FrameDecoder, DecoderStream and a socket use it", async () => {
  // Records of 3 bytes; a shorter last record is padded with zeros.
  const padded: Framing<Uint8Array> = {
    encode: (value) => value,
    decode: (bytes, offset) =>
      bytes.length - offset < 3
        ? null
        : { value: bytes.subarray(offset, offset + 3), next: offset + 3 },
    decodeEnd: (bytes, offset) => {
      const value = new Uint8Array(3);
      value.set(bytes.subarray(offset));
      return { value, next: bytes.length };
    },
  };
  const decoder = new FrameDecoder(padded);
  assertEquals(decoder.push(new Uint8Array([1, 2, 3, 4])).length, 1);
  assertEquals(decoder.end().map((v) => [...v]), [[4, 0, 0]]);
  assertEquals(decoder.end(), []); // nothing left: no more values

  const streamed = await Array.fromAsync(
    ReadableStream.from([new Uint8Array([1, 2, 3, 4, 5])])
      .pipeThrough(new DecoderStream(padded)),
  );
  assertEquals(streamed.map((v) => [...v]), [[1, 2, 3], [4, 5, 0]]);

  await using server = listen({ port: 0 });
  await using client = await connect({ port: server.addr.port });
  await using peer = await server.accept();
  await client.send(new Uint8Array([1, 2, 3, 4]));
  await client.closeWrite();
  assertEquals([...(await peer.recvFrame(padded))!], [1, 2, 3]);
  assertEquals([...(await peer.recvFrame(padded))!], [4, 0, 0]);
  assertEquals(await peer.recvFrame(padded), null);
});

Deno.test("decodeEnd returning null is INCOMPLETE_FRAME everywhere; a throw is that error", async () => {
  const refusing: Framing<Uint8Array> = {
    encode: (value) => value,
    decode: () => null,
    decodeEnd: () => null,
  };
  const decoder = new FrameDecoder(refusing);
  decoder.push(new Uint8Array([1]));
  assertEquals(
    assertThrows(() => decoder.end(), FrameError).code,
    "INCOMPLETE_FRAME",
  );

  const throwing: Framing<Uint8Array> = {
    encode: (value) => value,
    decode: () => null,
    decodeEnd: () => {
      throw new FrameError("BAD_HEADER", "no");
    },
  };
  const reader = ReadableStream.from([new Uint8Array([1])])
    .pipeThrough(new DecoderStream(throwing)).getReader();
  const error = await reader.read().then(() => null, (e) => e);
  assert(error instanceof FrameError);
  assertEquals(error.code, "BAD_HEADER");

  await using server = listen({ port: 0 });
  await using client = await connect({ port: server.addr.port });
  await using peer = await server.accept();
  await client.send(new Uint8Array([1, 2]));
  await client.closeWrite();
  const refused = await peer.recvFrame(refusing).then(() => null, (e) => e);
  assert(refused instanceof FrameError);
  assertEquals(refused.code, "INCOMPLETE_FRAME");
});

Deno.test("delimited acceptUnterminated over a socket and through recvFrameBorrowed", async () => {
  await using server = listen({ port: 0 });
  await using client = await connect({ port: server.addr.port });
  await using peer = await server.accept();
  await client.send("one\ntwo");
  await client.closeWrite();
  const lines = delimited({ acceptUnterminated: true });
  assertEquals(text((await peer.recvFrame(lines))!), "one");
  assertEquals(text((await peer.recvFrameBorrowed(lines))!), "two");
  assertEquals(await peer.recvFrame(lines), null);
});
