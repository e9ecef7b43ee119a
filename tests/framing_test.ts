// Framing codecs: exact bytes (checked against Python's struct.pack), values
// that must survive (empty payloads, empty lines), zero-copy views, the
// message head for streamed bodies, decodeFrames, and the stream adapters.
//
// Splits, random streams and long frames: framing_split_test.ts.
// Every error branch: framing_errors_test.ts.

import {
  decodeFrames,
  DecoderStream,
  delimited,
  encodeFrame,
  EncoderStream,
  FrameDecoder,
  FrameError,
  type Framing,
  lengthPrefixed,
  type LengthPrefixOptions,
  type Message,
  message,
} from "../framing.ts";
import { codecOf, type DecodeState } from "../framing/types.ts";
import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertThrows,
  concat,
} from "./_helpers/assert.ts";
import { hex, text, utf8 } from "./_helpers/bytes.ts";
import { python } from "./_helpers/python.ts";
import { Rng } from "./_helpers/random.ts";

/** The payload both sides build for a length: bytes (7i + 1) mod 256. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + 1) % 256;
  return bytes;
}
const PY_PATTERN = "bytes((i * 7 + 1) % 256 for i in range(n))";

/** A decoder fed `chunks` one by one, then ended; every value, in order. */
function decodeAll<T>(framing: Framing<T>, chunks: Uint8Array[]): T[] {
  const decoder = new FrameDecoder(framing);
  const values = chunks.flatMap((chunk) => decoder.push(chunk));
  decoder.end();
  return values;
}

// ---------------------------------------------------------------------------
// Exact bytes

Deno.test("encodeFrame: 'abc' is 00 00 00 03 61 62 63", () => {
  assertEquals(hex(encodeFrame(utf8("abc"))), "00000003616263");
});

Deno.test("encodeFrame: littleEndian matches Python struct.pack('i', 3) + b'abc'", async () => {
  const expected = await python(
    'import struct, sys; assert sys.byteorder == "little"; ' +
      'print((struct.pack("i", 3) + b"abc").hex())',
  );
  assertEquals(expected, "03000000616263"); // the x86 layout, as documented
  assertEquals(hex(encodeFrame(utf8("abc"), { littleEndian: true })), expected);
});

Deno.test("lengthPrefixed: reads a frame Python wrote with struct.pack('i', n)", async () => {
  const wire = await python(
    'import struct, sys; payload = "héllo".encode(); ' +
      'sys.stdout.write((struct.pack("i", len(payload)) + payload).hex())',
  );
  const bytes = Uint8Array.from(
    wire.match(/../g)!.map((pair) => parseInt(pair, 16)),
  );
  const decoded = lengthPrefixed({ littleEndian: true }).decode(bytes, 0);
  assertEquals(decoded && text(decoded.value), "héllo");
  assertEquals(decoded?.next, bytes.length);
});

Deno.test("encodeFrame: every header width and byte order matches Python struct.pack", async () => {
  // Lengths whose bytes all differ, so a swapped or shifted byte shows.
  const cases: [string, LengthPrefixOptions, number][] = [
    ["B", { headerBytes: 1 }, 3],
    ["B", { headerBytes: 1, littleEndian: true }, 255],
    [">H", { headerBytes: 2 }, 0x0102],
    ["<H", { headerBytes: 2, littleEndian: true }, 0x0102],
    [">H", { headerBytes: 2 }, 0xffff],
    [">I", { headerBytes: 4 }, 0x010203],
    ["<I", { headerBytes: 4, littleEndian: true }, 0x010203],
    [">Q", { headerBytes: 8 }, 0x010203],
    ["<Q", { headerBytes: 8, littleEndian: true }, 0x010203],
    [">Q", { headerBytes: 8 }, 0],
  ];
  const expected: string[] = JSON.parse(
    await python(
      "import json, struct, sys\n" +
        `out = [(struct.pack(f, n) + ${PY_PATTERN}).hex() for f, n in json.loads(sys.argv[1])]\n` +
        "print(json.dumps(out))",
      JSON.stringify(cases.map(([format, , n]) => [format, n])),
    ),
  );
  cases.forEach(([format, options, n], i) => {
    const frame = encodeFrame(pattern(n), options);
    assertEquals(hex(frame), expected[i], `${format} with ${n} bytes`);
    // And the framing reads back what Python wrote.
    const decoded = lengthPrefixed(options).decode(frame, 0);
    assertEquals(decoded?.value, pattern(n), `decode ${format}`);
  });
});

Deno.test("lengthPrefixed: an 8-byte header is read in full (lengths over 2**32)", async () => {
  const big = 2 ** 40 + 0x0102;
  for (const [format, littleEndian] of [[">Q", false], ["<Q", true]] as const) {
    const header = await python(
      `import struct; print(struct.pack("${format}", ${big}).hex())`,
    );
    const bytes = Uint8Array.from(
      header.match(/../g)!.map((pair) => parseInt(pair, 16)),
    );
    const state: DecodeState = { scanned: 0, need: 0 };
    const framing = lengthPrefixed({
      headerBytes: 8,
      littleEndian,
      maxFrameBytes: Number.MAX_SAFE_INTEGER,
    });
    assertEquals(codecOf(framing)?.decode(bytes, 0, state), null);
    assertEquals(state.need, 8 + big, format); // the announced length, exactly
  }
});

Deno.test("message: exact layout matches Python (struct length + UTF-8 JSON + body)", async () => {
  const script = "import json, struct, sys\n" +
    "order = sys.argv[1]\n" +
    'header = json.dumps({"name": "ü.txt", "size": 2}, ensure_ascii=False, separators=(",", ":")).encode()\n' +
    'print((struct.pack(order + "I", len(header)) + header + b"hi").hex())';
  for (const [order, littleEndian] of [[">", false], ["<", true]] as const) {
    const framing = message({ littleEndian });
    const bytes = framing.encode({
      header: { name: "ü.txt" },
      body: utf8("hi"),
    });
    assertEquals(hex(bytes), await python(script, order), `order ${order}`);
  }
  // The header length counts UTF-8 bytes, not characters: "ü" is 2 bytes.
  const json = '{"name":"ü.txt","size":2}';
  assertEquals(
    hex(message().encode({ header: { name: "ü.txt" }, body: utf8("hi") })),
    hex(
      concat([new Uint8Array([0, 0, 0, utf8(json).length]), utf8(json + "hi")]),
    ),
  );
  assertEquals(utf8(json).length, json.length + 1);
});

Deno.test("message: encode sets size from the body, overriding a stale one", () => {
  const framing = message();
  const bytes = framing.encode({
    header: { size: 99, name: "x" },
    body: utf8("abc"),
  });
  const decoded = framing.decode(bytes, 0);
  assertEquals(decoded?.value.header, { size: 3, name: "x" });
  assertEquals(decoded && text(decoded.value.body), "abc");
  assertEquals(decoded?.next, bytes.length);
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

// ---------------------------------------------------------------------------
// Empty payloads and empty lines are values

Deno.test("lengthPrefixed: empty payloads are frames (read_empty_frames)", () => {
  const bytes = concat([
    encodeFrame(new Uint8Array(0)),
    encodeFrame(utf8("x")),
    encodeFrame(new Uint8Array(0)),
  ]);
  assertEquals(hex(bytes), "00000000" + "0000000178" + "00000000");
  const decoder = new FrameDecoder(lengthPrefixed());
  assertEquals(decoder.push(bytes).map(text), ["", "x", ""]);
  assertEquals(decoder.buffered, 0);
  // Even an empty frame alone, its header in two pieces.
  assertEquals(decoder.push(new Uint8Array([0, 0])), []);
  assertEquals(decoder.push(new Uint8Array([0, 0])).map(text), [""]);
  decoder.end();
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

Deno.test("message: an empty body and a header of only size are a message", () => {
  const framing = message();
  const bytes = framing.encode({ header: {}, body: new Uint8Array(0) });
  assertEquals(text(bytes.subarray(4)), '{"size":0}');
  const values = decodeAll(framing, [bytes, bytes]);
  assertEquals(values, [
    { header: { size: 0 }, body: new Uint8Array(0) },
    { header: { size: 0 }, body: new Uint8Array(0) },
  ]);
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

Deno.test("Framing.decode: the payload is a subarray of the bytes given, at any offset", () => {
  const bytes = concat([utf8("junk"), encodeFrame(utf8("hello"))]);
  const result = lengthPrefixed().decode(bytes, 4);
  assertStrictEquals(result?.value.buffer, bytes.buffer);
  assertEquals(result?.value.byteOffset, 8);
  assertEquals(result?.next, bytes.length);
  const line = delimited().decode(utf8("xx\nab\n"), 3);
  assertEquals(line && text(line.value), "ab");
  assertEquals(line?.next, 6);
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
// message().head: a header framed alone, the body streamed

Deno.test("message head: encode a head with size, stream the body, decode the head", () => {
  const framing = message({ maxBodyBytes: 4 });
  const body = pattern(10); // over maxBodyBytes: this body is streamed
  const head = framing.head.encode({ name: "big.bin", size: body.length });
  assertEquals(text(head.subarray(4)), '{"name":"big.bin","size":10}');
  assertEquals(hex(head.subarray(0, 4)), "0000001c");

  // The receiver gets the head, then reads `size` bytes of body as it likes.
  const wire = concat([head, body]);
  const decoded = framing.head.decode(wire, 0);
  assertEquals(decoded?.value, { name: "big.bin", size: 10 });
  assertEquals(decoded?.next, head.length);
  const size = decoded!.value.size as number;
  assertEquals(wire.subarray(decoded!.next, decoded!.next + size), body);

  // Head + body is the same wire format as message(): a receiver with a
  // larger limit reads it as one message.
  assertEquals(message().decode(wire, 0)?.value, {
    header: { name: "big.bin", size: 10 },
    body,
  });
});

Deno.test("message head: decoding waits for the whole header, not the body", () => {
  const head = message().head;
  const bytes = head.encode({ size: 5 });
  const decoder = new FrameDecoder(head);
  assertEquals(decoder.push(bytes.subarray(0, bytes.length - 1)), []);
  assertEquals(decoder.push(bytes.subarray(bytes.length - 1)), [{ size: 5 }]);
  assertEquals(decoder.buffered, 0);
});

// ---------------------------------------------------------------------------
// decodeFrames

Deno.test("decodeFrames: every whole frame, and the rest as a view", () => {
  const whole = concat([encodeFrame(utf8("one")), encodeFrame(utf8(""))]);
  const partial = encodeFrame(utf8("three")).subarray(0, 6);
  const bytes = concat([whole, partial]);
  const { frames, rest } = decodeFrames(bytes);
  assertEquals(frames.map(text), ["one", ""]);
  assertEquals(rest, partial);
  assertStrictEquals(rest.buffer, bytes.buffer);
  assertEquals(rest.byteOffset, whole.length);
  frames.forEach((frame) => assertStrictEquals(frame.buffer, bytes.buffer));
});

Deno.test("decodeFrames: honours header width and byte order", () => {
  const options: LengthPrefixOptions = { headerBytes: 2, littleEndian: true };
  const bytes = concat([
    encodeFrame(pattern(300), options),
    new Uint8Array([0x2c]), // half of the next header
  ]);
  assertEquals(hex(bytes.subarray(0, 2)), "2c01");
  const { frames, rest } = decodeFrames(bytes, options);
  assertEquals(frames, [pattern(300)]);
  assertEquals([...rest], [0x2c]);
});

Deno.test("lengthPrefixed decodeMany: whole frames as views, stopping where decode would wait or throw", () => {
  const framing = lengthPrefixed({ maxFrameBytes: 8 });
  const whole = concat([
    new Uint8Array([9]), // an offset to start from
    encodeFrame(utf8("one")),
    encodeFrame(utf8("")),
    encodeFrame(utf8("three")),
  ]);
  const values: Uint8Array[] = [];
  const partial = concat([whole, encodeFrame(utf8("four")).subarray(0, 5)]);
  const codec = codecOf(framing)!;
  const stop = codec.decodeMany!(partial, 1, values);
  assertEquals(values.map(text), ["one", "", "three"]);
  values.forEach((v) => assertStrictEquals(v.buffer, partial.buffer));
  assertEquals(stop, whole.length);
  assertEquals(framing.decode(partial, stop), null);

  // A header over maxFrameBytes: decodeMany stops before it, decode throws.
  const oversized = concat([whole, new Uint8Array([0, 0, 0, 9])]);
  const more: Uint8Array[] = [];
  assertEquals(codec.decodeMany!(oversized, 1, more), whole.length);
  assertEquals(more.length, 3);
  assertThrows(() => framing.decode(oversized, whole.length), FrameError);
});

Deno.test("lengthPrefixed encodeMany: frames one after another as encode writes them, stopping before one that does not fit or is invalid", () => {
  const framing = lengthPrefixed({
    headerBytes: 2,
    littleEndian: true,
    maxFrameBytes: 8,
  });
  const values = ["skip", "one", "", "three", "four"].map(utf8);
  const frames = values.map((v) => framing.encode(v));
  // Room for "one", "" and "three" after a 1-byte offset, not for "four".
  const target = new Uint8Array(
    1 + frames[1].length + frames[2].length + frames[3].length + 3,
  ).fill(0xee);
  const { next, end } = codecOf(framing)!.writeMany!(values, 1, target, 1);
  assertEquals(next, 4);
  assertEquals(end, target.length - 3);
  assertEquals(target.subarray(1, end), concat(frames.slice(1, 4)));
  assertEquals([target[0], ...target.subarray(end)], [0xee, 0xee, 0xee, 0xee]);

  // Too large for maxFrameBytes, or not bytes at all: stops before it, no throw.
  const invalid = [utf8("ok"), new Uint8Array(9), utf8("never")];
  const room = new Uint8Array(64);
  assertEquals(codecOf(framing)!.writeMany!(invalid, 0, room, 0), {
    next: 1,
    end: 4,
  });
  const notBytes = [utf8("ok"), "text" as unknown as Uint8Array];
  assertEquals(codecOf(framing)!.writeMany!(notBytes, 0, room, 0), {
    next: 1,
    end: 4,
  });
  assertEquals(codecOf(framing)!.writeMany!(values, 5, room, 7), {
    next: 5,
    end: 7,
  });
});

Deno.test("decodeFrames: nothing in, nothing out", () => {
  const { frames, rest } = decodeFrames(new Uint8Array(0));
  assertEquals(frames, []);
  assertEquals(rest.length, 0);
  const short = decodeFrames(new Uint8Array([0, 0, 0]));
  assertEquals(short.frames, []);
  assertEquals([...short.rest], [0, 0, 0]);
});

// ---------------------------------------------------------------------------
// Streams

/** Cuts a byte stream into chunks of 1..maxChunk bytes (seeded). */
function rechunk(
  seed: number,
  maxChunk: number,
): TransformStream<Uint8Array, Uint8Array> {
  const rng = new Rng(seed);
  const next = () => rng.range(1, maxChunk);
  let pending = new Uint8Array(0);
  return new TransformStream({
    transform(chunk, controller) {
      pending = concat([pending, chunk]);
      for (let size = next(); pending.length >= size; size = next()) {
        controller.enqueue(pending.slice(0, size));
        pending = pending.subarray(size);
      }
    },
    flush(controller) {
      if (pending.length > 0) controller.enqueue(pending.slice());
    },
  });
}

async function roundTrip<T>(
  framing: Framing<T>,
  values: T[],
  seed: number,
): Promise<T[]> {
  return await Array.fromAsync(
    ReadableStream.from(values)
      .pipeThrough(new EncoderStream(framing))
      .pipeThrough(rechunk(seed, 7))
      .pipeThrough(new DecoderStream(framing)),
  );
}

Deno.test("EncoderStream → random chunks → DecoderStream gives the same values", async () => {
  const payloads = ["", "a", "hello", "", "x".repeat(40), "é"].map(utf8);
  assertEquals(await roundTrip(lengthPrefixed(), payloads, 1), payloads);
  assertEquals(
    await roundTrip(
      lengthPrefixed({ headerBytes: 8, littleEndian: true }),
      payloads,
      2,
    ),
    payloads,
  );
  assertEquals(
    await roundTrip(delimited({ delimiter: "\r\n" }), payloads, 3),
    payloads,
  );
  assertEquals(
    await roundTrip(delimited({ delimiter: "--XY--" }), payloads, 4),
    payloads,
  );
  const messages: Message[] = payloads.map((body, i) => ({
    header: { index: i, size: body.length },
    body,
  }));
  assertEquals(await roundTrip(message(), messages, 5), messages);
});

Deno.test("EncoderStream: to a reader that waits, one chunk per value, exactly the encoded bytes", async () => {
  const chunks = await Array.fromAsync(
    ReadableStream.from([utf8("ab"), utf8("")]).pipeThrough(
      new EncoderStream(lengthPrefixed({ headerBytes: 2 })),
    ),
  );
  assertEquals(chunks.map(hex), ["00026162", "0000"]);
});

Deno.test("DecoderStream: a stream that ends between frames ends cleanly", async () => {
  const bytes = concat([encodeFrame(utf8("a")), encodeFrame(utf8("b"))]);
  const values = await Array.fromAsync(
    ReadableStream.from([bytes.subarray(0, 6), bytes.subarray(6)]).pipeThrough(
      new DecoderStream(lengthPrefixed()),
    ),
  );
  assertEquals(values.map(text), ["a", "b"]);
  assert(values.every((value) => value instanceof Uint8Array));
});
