// DecoderStream and EncoderStream (framing/streams.ts): every complete frame
// before the error at a truncated end, and frames written while the
// downstream is busy leaving as one chunk. Over plain streams, and over real
// connections on 127.0.0.1 (conn.readable from a Python sender, a pipeTo
// into a connection's writer).

import {
  DecoderStream,
  delimited,
  encodeFrame,
  EncoderStream,
  FrameDecoder,
  FrameError,
  type Framing,
  lengthPrefixed,
  type Message,
  message,
} from "../../framing.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStringIncludes,
  concat,
} from "../_helpers/assert.ts";
import { delay, isPending, within } from "../_helpers/async.ts";
import { hex, text, utf8 } from "../_helpers/bytes.ts";
import { rawMessage } from "../_helpers/framing.ts";
import { runPython } from "../_helpers/python.ts";
import { Rng } from "../_helpers/random.ts";

/** The frames of `values` one after another, as `framing.encode` makes them. */
function encodeAll<T>(framing: Framing<T>, values: T[]): Uint8Array {
  return concat(values.map((value) => framing.encode(value)));
}

/** The payload of frame `i`: "frame i". */
const payload = (i: number): Uint8Array => utf8(`frame ${i}`);

/**
 * Writes every value at once (as a producer does that does not wait for the
 * downstream), then reads `stream`'s readable side to its end: the reader
 * was busy while they were written.
 */
async function burst<I, O>(
  stream: TransformStream<I, O>,
  values: I[],
): Promise<O[]> {
  const writer = stream.writable.getWriter();
  const writes = values.map((value) => writer.write(value));
  const closed = writer.close();
  const chunks = await Array.fromAsync(stream.readable);
  await Promise.all([...writes, closed]);
  return chunks;
}

/** Reads `stream` to its end or error, waiting `ms` before each read. */
async function readSlowly<T>(
  stream: ReadableStream<T>,
  ms: number,
): Promise<{ values: T[]; error: unknown }> {
  const reader = stream.getReader();
  const values: T[] = [];
  for (let reads = 0; reads < 100_000; reads++) {
    await delay(ms);
    try {
      const { value, done } = await reader.read();
      if (done) return { values, error: undefined };
      values.push(value);
    } catch (error) {
      return { values, error };
    }
  }
  throw new Error("the stream did not end");
}

// ---------------------------------------------------------------------------
// DecoderStream: every complete frame, then the error

Deno.test("DecoderStream: 16 frames and 2 stray bytes in one chunk give 16 values, then INCOMPLETE_FRAME", async () => {
  const frames = Array.from({ length: 16 }, (_, i) => payload(i));
  const bytes = concat([encodeAll(lengthPrefixed(), frames), utf8("\0\0")]);
  const values: string[] = [];
  const error = await assertRejects(async () => {
    const stream = ReadableStream.from([bytes])
      .pipeThrough(new DecoderStream(lengthPrefixed()));
    for await (const value of stream) values.push(text(value));
  }, FrameError);
  assertEquals(error.code, "INCOMPLETE_FRAME");
  assertEquals(error.message, "Stream ended inside a frame: 2 bytes left over");
  assertEquals(values, frames.map(text));
});

Deno.test("DecoderStream: a slow reader still gets every frame of the last chunks before INCOMPLETE_FRAME", async () => {
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
  const bytes = utf8(lines.join("\n") + "\nno end");
  // Three chunks, the last cut inside "no end".
  const chunks = [bytes.subarray(0, 100), bytes.subarray(100, 200)];
  chunks.push(bytes.subarray(200));
  const { values, error } = await readSlowly(
    ReadableStream.from(chunks).pipeThrough(new DecoderStream(delimited())),
    2,
  );
  assertEquals(values.map(text), lines);
  assertInstanceOf(error, FrameError);
  assertEquals(error.code, "INCOMPLETE_FRAME");
});

Deno.test("DecoderStream: a malformed frame errors the stream after the values of earlier chunks are read", async () => {
  const good = Array.from({ length: 10 }, (_, i) => payload(i));
  const first = encodeAll(lengthPrefixed(), good);
  // A header announcing 2^32 - 1 bytes: over the 16 MiB limit.
  const bad = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  const { values, error } = await readSlowly(
    ReadableStream.from([first, bad])
      .pipeThrough(new DecoderStream(lengthPrefixed())),
    1,
  );
  assertEquals(values.map(text), good.map(text));
  assertInstanceOf(error, FrameError);
  assertEquals(error.code, "FRAME_TOO_LARGE");
});

Deno.test("DecoderStream: a malformed frame in the same chunk as good ones: every good value first, then the error", async () => {
  const good = Array.from({ length: 10 }, (_, i) => payload(i));
  const bad = new Uint8Array([0xff, 0xff, 0xff, 0xff]); // over the 16 MiB limit
  const { values, error } = await readSlowly(
    ReadableStream.from([concat([encodeAll(lengthPrefixed(), good), bad])])
      .pipeThrough(new DecoderStream(lengthPrefixed())),
    1,
  );
  assertEquals(values.map(text), good.map(text));
  assertInstanceOf(error, FrameError);
  assertEquals(error.code, "FRAME_TOO_LARGE");
});

Deno.test("DecoderStream: a reader that cancels at a truncated end ends the wait for it", async () => {
  const frames = Array.from({ length: 8 }, (_, i) => payload(i));
  const bytes = concat([encodeAll(lengthPrefixed(), frames), utf8("\0")]);
  const reader = ReadableStream.from([bytes])
    .pipeThrough(new DecoderStream(lengthPrefixed()))
    .getReader();
  assertEquals(text((await reader.read()).value!), "frame 0");
  // Seven values are queued and the stream waits to error; the reader
  // leaves instead. The cancel settles (with the error flush ended on, as
  // the Streams standard has it while a flush runs) and no timer is left.
  const cancelled = reader.cancel("done").then(() => undefined, (e) => e);
  const outcome = await within(cancelled, 2000, "the cancel to settle");
  if (outcome !== undefined) {
    assertInstanceOf(outcome, FrameError);
    assertEquals(outcome.code, "INCOMPLETE_FRAME");
  }
  assertEquals(await reader.read(), { value: undefined, done: true });
});

Deno.test("DecoderStream: conn.readable from a Python sender that stops inside a frame", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // The tutorials' way: struct.pack a 4-byte length, sendall, close.
  await using peer = runPython(
    `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for i in range(5000):
    body = ("frame %d" % i).encode()
    s.sendall(struct.pack("!I", len(body)) + body)
s.sendall(struct.pack("!I", 100) + b"only part")
s.close()
print("sent")
`,
    String(listener.addr.port),
  );
  using conn = await listener.accept();
  const stream = conn.readable.pipeThrough(new DecoderStream(lengthPrefixed()));
  let count = 0;
  const error = await within(
    assertRejects(async () => {
      for await (const value of stream) {
        assertEquals(text(value), `frame ${count}`);
        count++;
      }
    }, FrameError),
    30_000,
    "the stream to end",
  );
  assertEquals(error.code, "INCOMPLETE_FRAME");
  assertEquals(
    error.message,
    "Stream ended inside a frame: 13 bytes left over",
  );
  assertEquals(count, 5000);
  assertEquals(await peer.readLine(), "sent");
  assertEquals((await peer.finish()).code, 0);
});

// ---------------------------------------------------------------------------
// EncoderStream: coalescing

Deno.test("EncoderStream: a value written while the reader waits leaves at once, alone", async () => {
  const framing = lengthPrefixed();
  const stream = new EncoderStream(framing);
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  for (let i = 0; i < 5; i++) {
    const read = reader.read();
    await writer.write(payload(i));
    assertEquals((await read).value, framing.encode(payload(i)));
  }
  await writer.close();
  assertEquals(await reader.read(), { value: undefined, done: true });
});

Deno.test("EncoderStream: values written while the reader is busy leave as one chunk, in order", async () => {
  const framing = lengthPrefixed({ headerBytes: 2 });
  const values = Array.from({ length: 100 }, (_, i) => payload(i));
  const chunks = await burst(new EncoderStream(framing), values);
  assertEquals(chunks.length, 1);
  assertEquals(chunks[0], encodeAll(framing, values));
});

Deno.test("EncoderStream: a burst over 256 KiB leaves in chunks of whole frames, none over 256 KiB", async () => {
  const framing = lengthPrefixed();
  const values = Array.from(
    { length: 300 },
    (_, i) => new Uint8Array(4000).fill(i % 256),
  );
  const chunks = await burst(new EncoderStream(framing), values);
  assertEquals(concat(chunks), encodeAll(framing, values));
  assertEquals(chunks.length, 5); // 300 frames of 4004 bytes, 65 to a chunk
  let frames = 0;
  for (const chunk of chunks) {
    assert(chunk.length <= 256 * 1024, `a chunk of ${chunk.length} bytes`);
    const decoder = new FrameDecoder(framing);
    frames += decoder.push(chunk).length;
    decoder.end(); // nothing left over: the chunk ends on a frame boundary
  }
  assertEquals(frames, 300);
});

Deno.test("EncoderStream: a frame over 256 KiB is a chunk of its own", async () => {
  const framing = lengthPrefixed();
  const values = [utf8("a"), new Uint8Array(300_000).fill(7), utf8("b")];
  const chunks = await burst(new EncoderStream(framing), values);
  assertEquals(chunks.map((chunk) => chunk.length), [5, 300_004, 5]);
  assertEquals(concat(chunks), encodeAll(framing, values));
});

Deno.test("EncoderStream: message() values in a burst (its measure and write fast path)", async () => {
  const framing = message();
  const values: Message[] = Array.from({ length: 20 }, (_, i) => ({
    header: { name: `file ${i}`, size: i },
    body: new Uint8Array(i).fill(i),
  }));
  const chunks = await burst(new EncoderStream(framing), values);
  assertEquals(chunks.length, 1);
  assertEquals(chunks[0], encodeAll(framing, values));
});

Deno.test("EncoderStream: a framing with only encode and decode coalesces too, and a lone frame is passed on uncopied", async () => {
  const encoded: Uint8Array[] = [];
  const tagged: Framing<string> = {
    encode(value) {
      const bytes = utf8(`<${value}>`);
      encoded.push(bytes);
      return bytes;
    },
    decode: () => null,
  };
  const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
  const chunks = await burst(new EncoderStream(tagged), values);
  assertEquals(chunks.map(text), [values.map((v) => `<${v}>`).join("")]);

  const lone = new EncoderStream(tagged);
  const reader = lone.readable.getReader();
  const writer = lone.writable.getWriter();
  const read = reader.read();
  await writer.write("one");
  assert((await read).value === encoded.at(-1), "the encoded array itself");
  await writer.close();
});

Deno.test("EncoderStream: a value it cannot encode errors the stream after the frames before it", async () => {
  const framing = lengthPrefixed({ headerBytes: 1 });
  const good = Array.from({ length: 10 }, (_, i) => payload(i));
  const stream = new EncoderStream(framing);
  const writer = stream.writable.getWriter();
  const writes = [...good, new Uint8Array(300), utf8("after")]
    .map((value) => writer.write(value).catch((error) => error));
  const { values, error } = await readSlowly(stream.readable, 1);
  assertEquals(concat(values), encodeAll(framing, good));
  assertInstanceOf(error, FrameError);
  assertEquals(error.code, "FRAME_TOO_LARGE");
  const settled = await Promise.all(writes);
  assertEquals(settled.slice(0, 10), Array(10).fill(undefined));
  assertEquals(settled[10], error);
  writer.releaseLock();
});

Deno.test("EncoderStream: a user framing whose encode returns no bytes is a TypeError on the stream, after the frames before it", async () => {
  const broken: Framing<string> = {
    encode: (value) =>
      (value === "bad" ? value : utf8(value)) as unknown as Uint8Array,
    decode: () => null,
  };
  const stream = ReadableStream.from(["ok", "bad"])
    .pipeThrough(new EncoderStream(broken));
  const { values, error } = await readSlowly(stream, 0);
  assertEquals(concat(values), utf8("ok"));
  assertInstanceOf(error, TypeError);
  assertStringIncludes(error.message, "not a Uint8Array");
});

Deno.test("EncoderStream: a value of the wrong type is a TypeError on the stream", async () => {
  const stream = ReadableStream.from<unknown>([utf8("ok"), "not bytes"])
    .pipeThrough(new EncoderStream(lengthPrefixed() as Framing<unknown>));
  const { values, error } = await readSlowly(stream, 0);
  assertEquals(concat(values), encodeFrame(utf8("ok")));
  assertInstanceOf(error, TypeError);
});

Deno.test("EncoderStream: piped into a connection, 20,000 frames take a few writes", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  using server = await listener.accept();
  const FRAMES = 20_000;
  // A connection's writer, as conn.writable is one (one write at a time,
  // high-water mark 1), that counts its writes.
  let writes = 0;
  const counted = new WritableStream<Uint8Array>({
    async write(chunk) {
      writes++;
      for (let done = 0; done < chunk.length;) {
        done += await client.write(chunk.subarray(done));
      }
    },
  });
  let next = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      for (let n = 0; n < 100 && next < FRAMES; n++) {
        controller.enqueue(payload(next++));
      }
      if (next === FRAMES) controller.close();
    },
  });
  const piped = source.pipeThrough(new EncoderStream(lengthPrefixed()))
    .pipeTo(counted);
  // The receiving end checks every frame, in order.
  const decoder = new FrameDecoder(lengthPrefixed());
  const buffer = new Uint8Array(64 * 1024);
  let received = 0;
  const receiving = (async () => {
    while (received < FRAMES) {
      const n = await server.read(buffer);
      if (n === null) throw new Error(`end of stream after ${received} frames`);
      for (const frame of decoder.push(buffer.slice(0, n))) {
        assertEquals(text(frame), `frame ${received}`);
        received++;
      }
    }
  })();
  await within(Promise.all([piped, receiving]), 30_000, "the frames");
  assertEquals(received, FRAMES);
  assertEquals(decoder.buffered, 0);
  assertLess(writes, FRAMES / 100, `${writes} writes for ${FRAMES} frames`);
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

// --- EncoderStream as a buffer ---------------------------------------------
// EncoderStream as a buffer (DESIGN.md, "Web Streams are buffers too"): an
// awaited write resolves once encoded while there is room, and a loop of
// awaited writes piped into a connection leaves in few chunks.

const numbered = (i: number) => new TextEncoder().encode(`value ${i}`);

Deno.test("EncoderStream: an awaited write resolves while nobody reads, until the high-water mark", async () => {
  const stream = new EncoderStream(lengthPrefixed());
  const writer = stream.writable.getWriter();
  for (let i = 0; i < 1000; i++) await writer.write(numbered(i));
  // About 1 MiB of frames: the write that crosses it waits for a read.
  const big = new Uint8Array(512 * 1024);
  await writer.write(big);
  const waiting = writer.write(big);
  assert(await isPending(waiting), "a write over the high-water mark waits");
  const decoder = new FrameDecoder(lengthPrefixed());
  const values: Uint8Array[] = [];
  const reading = (async () => {
    for await (const chunk of stream.readable) {
      values.push(...decoder.push(chunk));
    }
  })();
  await waiting; // room again once the reader took some
  await writer.close();
  await reading;
  assertEquals(values.length, 1002);
  assertEquals(values[999], numbered(999));
  assertEquals(values[1001].length, big.length);
});

Deno.test("EncoderStream: a loop of awaited writes piped into a connection's writer batches", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  using server = await listener.accept();
  const VALUES = 20_000;
  let writes = 0;
  const counted = new WritableStream<Uint8Array>({
    async write(chunk) {
      writes++;
      for (let done = 0; done < chunk.length;) {
        done += await client.write(chunk.subarray(done));
      }
    },
  });
  const stream = new EncoderStream(lengthPrefixed());
  const piped = stream.readable.pipeTo(counted);
  const receiving = (async () => {
    const decoder = new FrameDecoder(lengthPrefixed());
    const buffer = new Uint8Array(64 * 1024);
    let received = 0;
    while (received < VALUES) {
      const n = await server.read(buffer);
      if (n === null) throw new Error("unexpected end of stream");
      for (const value of decoder.push(buffer.subarray(0, n))) {
        assertEquals(value, numbered(received++));
      }
    }
  })();
  const writer = stream.writable.getWriter();
  for (let i = 0; i < VALUES; i++) await writer.write(numbered(i));
  await writer.close();
  await piped;
  await receiving;
  assert(writes < VALUES / 20, `${writes} writes for ${VALUES} values`);
});
