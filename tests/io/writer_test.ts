// io/writer.ts: the BufferedWriter over a scripted sink (partial writes,
// errors mid-batch, the high-water mark), then through the socket: send,
// sendFrame, sendFrames and flush, backpressure, batching of small frames,
// values that cannot be sent, write errors.

import { SocketError } from "../../errors.ts";
import { type Framing, lengthPrefixed } from "../../framing.ts";
import { BufferedWriter, type Sink } from "../../io/writer.ts";
import { connect, decodeFrames, encodeFrame, serve } from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  concat,
} from "../_helpers/assert.ts";
import { delay, isPending, rejection, within } from "../_helpers/async.ts";
import { KiB, MiB, text, utf8 } from "../_helpers/bytes.ts";
import { Rng } from "../_helpers/random.ts";
import {
  closeQuietly,
  frameError,
  random,
  type RawPair,
  rawPair,
  readStream,
  readToEnd,
  socketError,
  socketPair,
  streamBytes,
  testOverTransports,
} from "../_helpers/sockets.ts";

/** One write the writer made, and the test's control over it. */
interface SinkCall {
  /** A copy of the bytes, taken when the writer handed them over. */
  readonly bytes: Uint8Array;
  /** How many bytes the sink said it took (once completed). */
  taken?: number;
  /** Completes it, taking `n` bytes (all by default). */
  complete(n?: number): void;
  /** Fails it with `error`. */
  fail(error: unknown): void;
}

/** A Sink whose every write waits for the test to complete or fail it. */
class ScriptedSink implements Sink {
  readonly calls: SinkCall[] = [];

  write(bytes: Uint8Array): Promise<number> {
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    const call: SinkCall = {
      bytes: bytes.slice(),
      complete(n = bytes.length) {
        assert(n > 0 && n <= bytes.length, `complete(${n}) of ${bytes.length}`);
        call.taken = n;
        resolve(n);
      },
      fail: reject,
    };
    this.calls.push(call);
    return promise;
  }

  /** Call `index`, waiting (a bounded number of event-loop turns) for it. */
  async call(index: number): Promise<SinkCall> {
    for (let turns = 0; turns < 200 && this.calls.length <= index; turns++) {
      await delay(1);
    }
    const call = this.calls[index];
    assert(
      call,
      `the writer made ${this.calls.length} writes, not ${index + 1}`,
    );
    return call;
  }

  /** The bytes the sink took so far, in order. */
  taken(): Uint8Array {
    return concat(
      this.calls.filter((c) => c.taken !== undefined).map((c) =>
        c.bytes.subarray(0, c.taken)
      ),
    );
  }
}

/** `n` bytes counting up from `start` (mod 256): easy to spot out of order. */
function bytesFrom(start: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);
}

function writerOn(sink: Sink, highWaterMark = 1024 * 1024): BufferedWriter {
  return new BufferedWriter(sink, highWaterMark, () => {});
}

/** Turns of the event loop, enough for a held-back batch to leave. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await delay(0);
}

Deno.test("writer: a partial write is followed by a write of the rest", async () => {
  const sink = new ScriptedSink();
  const writer = writerOn(sink);
  const bytes = bytesFrom(0, 100);
  await writer.write(bytes);
  const flushed = writer.flush();
  const first = await sink.call(0);
  assertEquals(first.bytes, bytes);
  first.complete(30);
  const second = await sink.call(1);
  assertEquals(second.bytes, bytes.subarray(30));
  assert(await isPending(flushed), "flush resolved with 70 bytes unwritten");
  second.complete(20);
  const third = await sink.call(2);
  assertEquals(third.bytes, bytes.subarray(50));
  third.complete();
  await flushed;
  assertEquals(sink.taken(), bytes);
  await settle();
  assertEquals(sink.calls.length, 3);
});

Deno.test("writer: while a write never completes, flush waits and later writes queue behind it; nothing is lost when it completes", async () => {
  const sink = new ScriptedSink();
  const writer = writerOn(sink);
  const a = bytesFrom(0, 40);
  const b = bytesFrom(40, 25);
  const c = bytesFrom(65, 10);
  await writer.write(a);
  const stuck = await sink.call(0);
  const flushA = writer.flush();
  await writer.write(b); // below the high-water mark: accepted at once
  await writer.writeFrame(c, lengthPrefixed());
  const flushAll = writer.flush();
  await settle();
  assert(await isPending(flushA), "flush resolved before its bytes left");
  assert(await isPending(flushAll));
  assertEquals(sink.calls.length, 1, "a second write while one is in flight");

  stuck.complete();
  await flushA;
  const next = await sink.call(1);
  const frame = concat([new Uint8Array([0, 0, 0, 10]), c]);
  assertEquals(next.bytes, concat([b, frame]));
  assert(await isPending(flushAll), "flush resolved before b and c left");
  next.complete();
  await flushAll;
  assertEquals(sink.taken(), concat([a, b, frame]));
});

Deno.test("writer: an error in the middle of a batch rejects every waiter and every later call with that SocketError, and nothing else is written", async () => {
  const sink = new ScriptedSink();
  const highWaterMark = 1000;
  const writer = writerOn(sink, highWaterMark);
  await writer.write(bytesFrom(0, 100));
  const first = await sink.call(0);
  // Behind the write in flight: a flush, a batch of frames, bytes the caller
  // owns until written (>= the high-water mark), and a write waiting for room.
  const flushed = writer.flush();
  await writer.writeFrames(
    [bytesFrom(1, 10), bytesFrom(2, 20)],
    lengthPrefixed(),
  );
  const owned = writer.write(bytesFrom(3, highWaterMark));
  const waiting = writer.write(bytesFrom(4, 50));
  assert(await isPending(owned));
  assert(await isPending(waiting), "the write over the mark did not wait");

  // The batch starts to leave: 40 bytes are taken, then the peer resets.
  first.complete(40);
  const rest = await sink.call(1);
  const reset = new Deno.errors.ConnectionReset("reset by the fake peer");
  rest.fail(reset);

  const error = await rejection(flushed);
  assertInstanceOf(error, SocketError);
  assertEquals(error.code, "ECONNRESET");
  assertStrictEquals(error.cause, reset);
  assertStrictEquals(await rejection(owned), error);
  assertStrictEquals(await rejection(waiting), error);
  assertStrictEquals(await rejection(writer.flush()), error);
  assertStrictEquals(await rejection(writer.write(bytesFrom(5, 1))), error);
  assertStrictEquals(
    await rejection(writer.writeFrame(bytesFrom(6, 1), lengthPrefixed())),
    error,
  );
  assertStrictEquals(
    await rejection(writer.writeFrames([bytesFrom(7, 1)], lengthPrefixed())),
    error,
  );
  await settle();
  assertEquals(sink.calls.length, 2, "written after the error");
  assertEquals(sink.taken(), bytesFrom(0, 40));
});

Deno.test("writer: fail() while a write is in flight rejects the waiters, and the rest of that write never leaves", async () => {
  const sink = new ScriptedSink();
  const writer = writerOn(sink);
  await writer.write(bytesFrom(0, 100));
  const first = await sink.call(0);
  const flushed = writer.flush();
  const error = new SocketError("ECLOSED", "Cannot send: the socket is closed");
  writer.fail(error);
  assertStrictEquals(await rejection(flushed), error);
  first.complete(10); // the runtime finishes part of the write afterwards
  await settle();
  assertEquals(sink.calls.length, 1);
  assertStrictEquals(await rejection(writer.write(bytesFrom(1, 1))), error);
});

Deno.test("writer: bytes leave in the order they were accepted, whatever the write sizes and completions", async () => {
  const rng = new Rng(0x0bde5);
  const sink = new ScriptedSink();
  const highWaterMark = 4096;
  const writer = writerOn(sink, highWaterMark);
  // A framing a user wrote: the writer sees only encode().
  const tagged: Framing<Uint8Array> = {
    encode: (value) => concat([new Uint8Array([0xee, value.length]), value]),
    decode: () => null,
  };
  const framing = lengthPrefixed();
  const expected: Uint8Array[] = [];
  const pending: Promise<void>[] = [];
  let served = 0;
  let next = 0;
  for (let step = 0; step < 400; step++) {
    const body = bytesFrom(next++, rng.length(300));
    switch (rng.int(5)) {
      case 0:
        pending.push(writer.write(body));
        expected.push(body);
        break;
      case 1: {
        const large = bytesFrom(next++, highWaterMark + rng.int(3000));
        pending.push(writer.write(large)); // uncopied until written
        expected.push(large.slice()); // what it held when handed over
        break;
      }
      case 2:
        pending.push(writer.writeFrame(body, framing));
        expected.push(encodeLengthPrefixed(body));
        break;
      case 3: {
        const bodies = [body, bytesFrom(next++, rng.length(50))];
        pending.push(writer.writeFrames(bodies, framing));
        expected.push(...bodies.map(encodeLengthPrefixed));
        break;
      }
      default:
        if (body.length < 256) {
          pending.push(writer.writeFrame(body, tagged));
          expected.push(tagged.encode(body));
        }
    }
    // Complete the writes made so far, some in part, some not yet.
    while (served < sink.calls.length && rng.chance(0.7)) {
      const call = sink.calls[served++];
      call.complete(rng.range(1, call.bytes.length));
    }
  }
  await drainInOrder(writer, sink, served, rng, expected, pending);
});

/**
 * Flushes `writer`, completing the sink's writes from `served` on by random
 * amounts, and checks that the sink took exactly `expected`, in order.
 */
async function drainInOrder(
  writer: BufferedWriter,
  sink: ScriptedSink,
  served: number,
  rng: Rng,
  expected: Uint8Array[],
  pending: Promise<void>[],
): Promise<void> {
  const flushed = writer.flush();
  // Bounded by the bytes left (each completion takes at least one).
  const total = expected.reduce((sum, bytes) => sum + bytes.length, 0);
  for (let i = 0; i < total && sink.taken().length < total; i++) {
    const call = await sink.call(served++);
    call.complete(rng.range(1, call.bytes.length));
  }
  await flushed;
  await Promise.all(pending);
  assertEquals(sink.taken().length, total);
  assertEquals(sink.taken(), concat(expected));
}

/** lengthPrefixed()'s default frame: a 4-byte big-endian length, then the body. */
function encodeLengthPrefixed(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

Deno.test("writer: below the high-water mark writes resolve at once; over it they wait until the queue drains below it", async () => {
  const sink = new ScriptedSink();
  const highWaterMark = 1000;
  const writer = writerOn(sink, highWaterMark);
  await writer.write(bytesFrom(0, 10));
  const inFlight = await sink.call(0);
  // Queued behind the write in flight: 9 x 100 bytes stay under the mark...
  for (let i = 0; i < 9; i++) {
    const accepted = writer.write(bytesFrom(i, 100));
    assertEquals(await isPending(accepted), false, `write ${i} waited`);
  }
  // ...the 10th reaches it, and so does a frame after it: both wait.
  const atMark = writer.write(bytesFrom(9, 100));
  const frame = writer.writeFrame(bytesFrom(10, 10), lengthPrefixed());
  assert(await isPending(atMark), "a write reaching the mark resolved at once");
  assert(await isPending(frame));
  // The write in flight completes: the queue goes to the sink, room again.
  inFlight.complete();
  await atMark;
  await frame;
  const batch = await sink.call(1);
  assertEquals(batch.bytes.length, 1000 + 14);
  // With the queue handed over, writes resolve at once again.
  assertEquals(await isPending(writer.write(bytesFrom(11, 100))), false);
  batch.complete();
  (await sink.call(2)).complete();
  await writer.flush();
  assertEquals(sink.taken().length, 10 + 1000 + 14 + 100);
});

Deno.test("writer: bytes at or over the high-water mark are not copied, and resolve only once written", async () => {
  const sink = new ScriptedSink();
  const highWaterMark = 64;
  const writer = writerOn(sink, highWaterMark);
  const big = bytesFrom(0, 200);
  const written = writer.write(big);
  const call = await sink.call(0);
  assert(await isPending(written), "resolved before the bytes were written");
  call.complete(150);
  const rest = await sink.call(1);
  assert(await isPending(written), "resolved with 50 bytes unwritten");
  rest.complete();
  await written;
  big.fill(0); // the caller's to reuse now
  assertEquals(sink.taken(), bytesFrom(0, 200));
});
Deno.test("writer: frames as large as the high-water mark reuse written buffers, not fresh memory each", async () => {
  const buffers = new Set<ArrayBufferLike>();
  let written = 0;
  const sink: Sink = {
    write(bytes) {
      buffers.add(bytes.buffer);
      written += bytes.length;
      return delay(0).then(() => bytes.length);
    },
  };
  const writer = writerOn(sink, 64 * KiB);
  const payload = bytesFrom(0, 64 * KiB);
  for (let i = 0; i < 40; i++) {
    await writer.writeFrame(payload, lengthPrefixed());
  }
  await writer.flush();
  assertEquals(written, 40 * (4 + 64 * KiB));
  assert(buffers.size <= 3, `${buffers.size} write buffers for 40 frames`);
});

Deno.test("writer: a small remainder of a partial write leaves in front of the next frame, not in a write of its own", async () => {
  const sink = new ScriptedSink();
  const writer = writerOn(sink);
  const framing = lengthPrefixed();
  const first = bytesFrom(0, 64 * KiB);
  const second = bytesFrom(7, 64 * KiB);
  await writer.writeFrame(first, framing);
  const call = await sink.call(0);
  assertEquals(call.bytes, encodeLengthPrefixed(first));
  await writer.writeFrame(second, framing); // gathers behind the write
  const flushed = writer.flush();
  call.complete(64 * KiB); // what TLS takes of one write: 4 bytes are left
  const next = await sink.call(1);
  assertEquals(
    next.bytes,
    concat([
      encodeLengthPrefixed(first).subarray(64 * KiB),
      encodeLengthPrefixed(second),
    ]),
  );
  assert(await isPending(flushed), "flush resolved with bytes unwritten");
  next.complete();
  await flushed;
  assertEquals(sink.calls.length, 2);
  assertEquals(sink.taken(), concat([first, second].map(encodeLengthPrefixed)));
});

Deno.test("writer: into a sink that takes at most 64 KiB a write (as TLS does), 64 KiB frames cost one write each, not two", async () => {
  const writes: number[] = [];
  const taken: Uint8Array[] = [];
  const sink: Sink = {
    write(bytes) {
      const n = Math.min(bytes.length, 64 * KiB);
      writes.push(bytes.length);
      taken.push(bytes.slice(0, n));
      return delay(0).then(() => n);
    },
  };
  const writer = writerOn(sink);
  const frames = Array.from({ length: 40 }, (_, i) => bytesFrom(i, 64 * KiB));
  for (const frame of frames) await writer.writeFrame(frame, lengthPrefixed());
  await writer.flush();
  assertEquals(concat(taken), concat(frames.map(encodeLengthPrefixed)));
  // Each write carries the remainder forward: 40 frames of 65,540 bytes
  // are 41 writes of at most 64 KiB (80 with a 4-byte write after each).
  assert(writes.length <= 42, `${writes.length} writes for 40 frames`);
});

Deno.test("writer: large frames with small remainders carried forward arrive intact, whatever the sink takes", async () => {
  const rng = new Rng(0xca77);
  const sink = new ScriptedSink();
  const writer = writerOn(sink, 512 * KiB);
  const framing = lengthPrefixed();
  const expected: Uint8Array[] = [];
  const pending: Promise<void>[] = [];
  let served = 0;
  for (let step = 0; step < 60; step++) {
    const body = bytesFrom(step, 60 * KiB + rng.int(8 * KiB));
    pending.push(writer.writeFrame(body, framing));
    expected.push(encodeLengthPrefixed(body));
    while (served < sink.calls.length && rng.chance(0.6)) {
      const call = sink.calls[served++];
      // Often all but a few bytes (a remainder to carry), else anything.
      const most = call.bytes.length - 1 -
        rng.int(Math.min(2 * KiB, call.bytes.length - 1));
      call.complete(
        rng.chance(0.5) ? Math.max(1, most) : rng.range(1, call.bytes.length),
      );
    }
  }
  await drainInOrder(writer, sink, served, rng, expected, pending);
});

/** Sends 64 KiB chunks of the test stream until a send stays pending; the bytes accepted. */
async function fillUntilBlocked(
  send: (chunk: Uint8Array) => Promise<void>,
  limit: number,
): Promise<{ accepted: number; blocked: Promise<void> | undefined }> {
  const chunk = streamBytes(0, 64 * KiB);
  let accepted = 0;
  while (accepted < limit) {
    const sending = send(chunk);
    if (await isPending(sending)) return { accepted, blocked: sending };
    accepted += chunk.length;
  }
  return { accepted, blocked: undefined };
}

testOverTransports(
  "send: resolves at once below the high-water mark; above it waits until the peer reads",
  async (transport) => {
    await using pair = await rawPair(
      { highWaterMark: 256 * KiB },
      undefined,
      transport,
    );
    // Below the mark, with the peer reading nothing: each send resolves at once.
    for (let i = 0; i < 3; i++) {
      assert(
        !await isPending(pair.client.send(streamBytes(0, 64 * KiB))),
        `send ${i} waited below the high-water mark`,
      );
    }
    // Keep going: once the kernel's buffers and ours are full, a send waits.
    const { accepted, blocked } = await fillUntilBlocked(
      (chunk) => pair.client.send(chunk),
      64 * MiB,
    );
    assert(blocked !== undefined, `${accepted} bytes accepted without waiting`);
    assert(accepted < 16 * MiB, `${accepted} bytes accepted before waiting`);
    await delay(50);
    assert(await isPending(blocked), "the send resolved with nobody reading");
    // The peer reads: the waiting send resolves, and every byte arrives.
    const total = 3 * 64 * KiB + accepted + 64 * KiB;
    const reading = readStream(pair.raw, total);
    await within(blocked, 5000, "the blocked send once the peer reads");
    await pair.client.flush();
    assertEquals(await within(reading, 5000, "reading it all"), total);
  },
);

Deno.test("send: 64 MiB to a peer reading nothing holds bounded memory, completes once it reads, intact", async () => {
  await using pair = await rawPair(); // highWaterMark: the default 1 MiB
  const size = 64 * MiB;
  const chunk = streamBytes(0, 64 * KiB); // Every 64 KiB of the stream is alike.
  const rssBefore = Deno.memoryUsage().rss;
  let resolved = 0;
  const sending = (async () => {
    for (let sent = 0; sent < size; sent += chunk.length) {
      await pair.client.send(chunk);
      resolved += chunk.length;
    }
    await pair.client.flush();
  })();
  // Wait until the sender stalls: `resolved` stops moving.
  let last = -1;
  for (let polls = 0; polls < 100 && resolved !== last; polls++) {
    last = resolved;
    await delay(40);
  }
  assertEquals(resolved, last, "the sender never stalled");
  // Our buffer (1 MiB) plus the kernel's socket buffers, not 64 MiB.
  assert(resolved < 16 * MiB, `${resolved} bytes accepted with nobody reading`);
  const growth = Deno.memoryUsage().rss - rssBefore;
  assert(growth < 24 * MiB, `RSS grew by ${growth} bytes while stalled`);
  assert(await isPending(sending), "the send completed with nobody reading");

  // The peer starts reading: everything arrives, in order.
  const received = await readStream(pair.raw, size, 256 * KiB);
  await within(sending, 5000, "the sends once the peer read");
  assertEquals(received, size);
});

Deno.test("sendFrame: 10,000 awaited small frames reach the peer in far fewer than 10,000 reads", async () => {
  await using pair = await rawPair();
  const count = 10_000;
  const frameOf = (i: number) => new Uint8Array([i >> 8, i & 255, 7, 7]);
  const expectedBytes = count * (4 + 4);
  const reading = (async () => {
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    let reads = 0;
    const buffer = new Uint8Array(64 * KiB);
    for (; bytes < expectedBytes && reads < count; reads++) {
      const n = await pair.raw.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      bytes += n;
    }
    return { chunks, bytes, reads };
  })();
  for (let i = 0; i < count; i++) await pair.client.sendFrame(frameOf(i));
  await pair.client.flush();
  const { chunks, bytes, reads } = await within(reading, 5000, "the frames");
  assertEquals(bytes, expectedBytes);
  assert(reads < count / 10, `${reads} reads for ${count} frames`);
  const { frames, rest } = decodeFrames(concat(chunks));
  assertEquals(rest.length, 0);
  assertEquals(frames.length, count);
  for (let i = 0; i < count; i++) assertEquals(frames[i], frameOf(i));
});

/** A raw pair whose TcpSocket's writes to the runtime are counted. */
async function countingPair(): Promise<RawPair & { writes: () => number }> {
  let writes = 0;
  const pair = await rawPair({}, (conn) => {
    const write = conn.write.bind(conn);
    conn.write = (bytes: Uint8Array) => {
      writes++;
      return write(bytes);
    };
  });
  return Object.assign(pair, { writes: () => writes });
}

Deno.test("sendFrame: 10,000 awaited small frames leave in a handful of writes, not one per frame or two", async () => {
  await using pair = await countingPair();
  const count = 10_000;
  const reading = readToEnd(pair.raw);
  for (let i = 0; i < count; i++) {
    await pair.client.sendFrame(new Uint8Array([i >> 8, i & 255]));
  }
  await pair.client.closeWrite();
  const bytes = await within(reading, 5000, "the frames");
  const { frames, rest } = decodeFrames(bytes);
  assertEquals(rest.length, 0);
  assertEquals(frames.length, count);
  frames.forEach((frame, i) =>
    assertEquals(frame, new Uint8Array([i >> 8, i & 255]))
  );
  // 60,000 bytes: buffers of 4, 8, 16, 32 and 64 KiB, and the first frame alone.
  assert(pair.writes() <= 8, `${pair.writes()} writes for ${count} frames`);
});

Deno.test("sendFrame: frames held back to batch leave as soon as the caller awaits something else", async () => {
  await using pair = await countingPair();
  for (let round = 0; round < 20; round++) {
    // A burst of three, then wait for the peer to have all three.
    const labels = [0, 1, 2].map((i) => `r${round % 10}:${i}`);
    for (const label of labels) await pair.client.sendFrame(utf8(label));
    const expected = 3 * (4 + 4);
    const answer = new Uint8Array(expected);
    for (let got = 0; got < expected;) {
      const n = await within(
        pair.raw.read(answer.subarray(got)),
        1000,
        `round ${round}`,
      );
      assert(n !== null);
      got += n;
    }
    assertEquals(decodeFrames(answer).frames.map(text), labels);
  }
});

testOverTransports(
  "sendFrame: concurrent calls with frames of mixed sizes (some ≥ 64 KiB) never interleave",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    const rand = random(99);
    const sizes = [0, 1, 65535, 65536, 65537, 200 * KiB, 3, 64 * KiB - 4];
    for (let i = 0; i < 60; i++) {
      sizes.push(rand(0, 3) === 0 ? rand(64 * KiB, 300 * KiB) : rand(0, 2000));
    }
    // Frame i: its index in the first 4 bytes (when it fits), then i's byte.
    const frameOf = (i: number): Uint8Array => {
      const frame = new Uint8Array(sizes[i]).fill(i & 255);
      if (frame.length >= 4) new DataView(frame.buffer).setUint32(0, i);
      return frame;
    };
    const receiving = (async () => {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < sizes.length; i++) {
        const frame = await pair.peer.recvFrame();
        if (frame === null) break;
        frames.push(frame);
      }
      return frames;
    })();
    await Promise.all(sizes.map((_, i) => pair.client.sendFrame(frameOf(i))));
    await pair.client.flush();
    const frames = await within(receiving, 5000, "the frames");
    assertEquals(frames.length, sizes.length);
    for (let i = 0; i < sizes.length; i++) {
      assertEquals(frames[i].length, sizes[i], `frame ${i}'s length`);
      assertEquals(frames[i], frameOf(i), `frame ${i}'s bytes`);
    }
  },
);

Deno.test("sendFrames: one call sends every frame in order; a frame too large rejects after the ones before it", async () => {
  await using pair = await socketPair({
    framing: lengthPrefixed({ maxFrameBytes: 100 }),
  });
  const words = ["alpha", "", "gamma"].map(utf8);
  await pair.client.sendFrames(words);
  await frameError(
    pair.client.sendFrames([utf8("delta"), new Uint8Array(101), utf8("no")]),
    "FRAME_TOO_LARGE",
  );
  await frameError(
    pair.client.sendFrame(new Uint8Array(101)),
    "FRAME_TOO_LARGE",
  );
  await pair.client.sendFrame(utf8("last"));
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push(text((await pair.peer.recvFrame())!));
  assertEquals(got, ["alpha", "", "gamma", "delta", "last"]);
});

Deno.test("sendFrames: frames of every size in one call arrive whole and in order; a value that is not bytes rejects after the ones before it", async () => {
  await using pair = await socketPair();
  const rand = random(11);
  // Small frames that share write buffers, frames larger than a buffer, and
  // ones large enough to be written from their own memory.
  const sizes = [
    ...Array.from({ length: 3000 }, () => rand(0, 40)),
    70 * KiB,
    ...Array.from({ length: 500 }, () => rand(0, 2000)),
    300 * KiB,
    5,
  ];
  const frameOf = (i: number, size: number) =>
    new Uint8Array(size).fill(i & 255);
  const sent = sizes.map((size, i) => frameOf(i, size));
  const received = (async () => {
    const frames: Uint8Array[] = [];
    while (frames.length < sent.length + 1) {
      const batch = await pair.peer.recvFrames();
      if (batch === null) break;
      frames.push(...batch);
    }
    return frames;
  })();
  await pair.client.sendFrames(sent);
  const bad = [utf8("before"), "not bytes" as unknown as Uint8Array, utf8("x")];
  const error = await rejection(pair.client.sendFrames(bad));
  assertInstanceOf(error, TypeError);
  pair.client.close();
  const frames = await within(received, 10_000, "every frame");
  assertEquals(frames.length, sent.length + 1);
  for (let i = 0; i < sent.length; i++) {
    assertEquals(frames[i].length, sizes[i], `frame ${i}'s length`);
    assertEquals(frames[i], sent[i], `frame ${i}'s bytes`);
  }
  assertEquals(text(frames[sent.length]), "before");
});

Deno.test("send: strings go as UTF-8", async () => {
  await using pair = await socketPair();
  await pair.client.send("héllo, 世界");
  const bytes = utf8("héllo, 世界");
  assertEquals(await pair.peer.recvExactly(bytes.length), bytes);
});

Deno.test("flush: resolves only when every buffered byte is written", async () => {
  await using pair = await rawPair({ highWaterMark: 64 * MiB });
  const size = 16 * MiB; // Under the mark: copied, resolves at once.
  const chunk = streamBytes(0, 64 * KiB);
  const sends: Promise<void>[] = [];
  for (let sent = 0; sent < size; sent += chunk.length) {
    sends.push(pair.client.send(chunk));
  }
  assert(!await isPending(Promise.all(sends)), "a send waited");
  const flushing = pair.client.flush();
  await delay(50);
  assert(
    await isPending(flushing),
    "flush resolved with the peer reading nothing",
  );
  const reading = (async () => {
    const buffer = new Uint8Array(256 * KiB);
    let received = 0;
    for (let reads = 0; received < size && reads < 1_000_000; reads++) {
      const n = await pair.raw.read(buffer);
      if (n === null) break;
      received += n;
    }
    return received;
  })();
  await within(flushing, 5000, "flush once the peer reads");
  assertEquals(await within(reading, 5000, "the bytes"), size);
  // With nothing buffered, flush resolves at once.
  assert(!await isPending(pair.client.flush()), "an empty flush waited");
});

testOverTransports(
  "send: with a timeout, a send waiting on a peer that reads nothing is ETIMEDOUT",
  async (transport) => {
    await using pair = await rawPair(
      { highWaterMark: 64 * KiB },
      undefined,
      transport,
    );
    pair.client.timeout = 100;
    const chunk = streamBytes(0, 16 * KiB);
    let error: unknown;
    for (let i = 0; i < 4096 && error === undefined; i++) {
      try {
        await pair.client.send(chunk);
      } catch (caught) {
        error = caught;
      }
    }
    await socketError(Promise.reject(error), "ETIMEDOUT");
    // A flush that cannot finish times out as well.
    await socketError(pair.client.flush(), "ETIMEDOUT");
  },
);

Deno.test("send: a buffer over the high-water mark (sent uncopied) that times out closes the socket", async () => {
  await using pair = await rawPair({ highWaterMark: 64 * KiB });
  pair.client.timeout = 100;
  // The peer reads nothing: 32 MiB cannot leave in 100 ms.
  await socketError(pair.client.send(streamBytes(0, 32 * MiB)), "ETIMEDOUT");
  // Part of it may have left, so the stream is unusable: the socket is closed.
  await socketError(pair.client.send("more"), "ECLOSED");
  const received = await within(
    readToEnd(pair.raw).catch(() => new Uint8Array(0)),
    5000,
    "the end of the stream",
  );
  assert(received.length < 32 * MiB);
});

testOverTransports(
  "send: writing to a peer that closed ends in EPIPE or ECONNRESET (a few sends at most)",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    pair.raw.close();
    let error: unknown;
    let sends = 0;
    for (; sends < 100 && error === undefined; sends++) {
      try {
        await pair.client.send("data");
        await pair.client.flush();
      } catch (caught) {
        error = caught;
      }
      await delay(5);
    }
    await socketError(Promise.reject(error), "EPIPE", "ECONNRESET");
    assert(sends < 100);
    // The error stays: every later call reports it.
    await socketError(pair.client.send("again"), "EPIPE", "ECONNRESET");
    await socketError(pair.client.flush(), "EPIPE", "ECONNRESET");
    await socketError(pair.client.closeWrite(), "EPIPE", "ECONNRESET");
  },
);

Deno.test("send: a write error after send resolved is thrown by the next flush", async () => {
  await using pair = await rawPair();
  await pair.client.send("unread");
  await pair.client.flush();
  await delay(20);
  closeQuietly(pair.raw); // With our bytes unread: the peer resets.
  await delay(50);
  // The send is accepted into the buffer: it resolves although the write fails.
  await pair.client.send("into the void");
  await socketError(pair.client.flush(), "EPIPE", "ECONNRESET");
  await socketError(pair.client.sendFrame(utf8("x")), "EPIPE", "ECONNRESET");
});

Deno.test("Nagle: 300 framed round trips of 1-byte frames finish in under 2 s", async () => {
  const server = serve({ port: 0 }, async (socket) => {
    for await (const frame of socket.frames()) await socket.sendFrame(frame);
  });
  const client = await connect({ port: server.addr.port });
  const started = performance.now();
  for (let i = 0; i < 300; i++) {
    await client.sendFrame(new Uint8Array([i & 255]));
    const reply = await client.recvFrame();
    assertEquals(reply, new Uint8Array([i & 255]));
  }
  const elapsed = performance.now() - started;
  client.close();
  await server.shutdown();
  // A delayed-ACK stall costs ~40 ms per round trip: 12 s for 300.
  assert(elapsed < 2000, `300 round trips took ${elapsed.toFixed(0)} ms`);
});

Deno.test("encodeFrame round trip: sendFrame writes exactly the codec's bytes", async () => {
  await using pair = await rawPair();
  const payloads = [utf8("a"), new Uint8Array(0), streamBytes(5, 70_000)];
  for (const payload of payloads) await pair.client.sendFrame(payload);
  pair.client.close();
  const received = await within(readToEnd(pair.raw), 5000, "the frames");
  const expected = payloads.map((p) => encodeFrame(p));
  assertEquals(
    received,
    new Uint8Array(expected.flatMap((bytes) => [...bytes])),
  );
});
Deno.test("flush: resolves once the bytes sent before it are written, while later sends keep it busy", async () => {
  await using pair = await rawPair({ highWaterMark: 128 * MiB });
  const chunk = streamBytes(0, 64 * KiB);
  const before = 1 * MiB;
  const after = 48 * MiB;
  for (let sent = 0; sent < before; sent += chunk.length) {
    await pair.client.send(chunk);
  }
  let flushedAt = -1;
  let received = 0;
  const flushing = pair.client.flush().then(() => flushedAt = received);
  for (let sent = 0; sent < after; sent += chunk.length) {
    await pair.client.send(chunk); // all accepted: under the high-water mark
  }
  const buffer = new Uint8Array(64 * KiB);
  for (let reads = 0; received < before + after && reads < 100_000; reads++) {
    const n = await pair.raw.read(buffer);
    if (n === null) break;
    received += n;
    await Promise.resolve(); // let a flush that is due settle between reads
  }
  await within(flushing, 5000, "the flush");
  assertEquals(received, before + after);
  // The kernel holds a few MiB at most: a flush that waited for the writer to
  // go idle would settle only near the end.
  assert(
    flushedAt >= 0 && flushedAt < before + after - 16 * MiB,
    `flush settled after ${flushedAt} bytes were read`,
  );
});

Deno.test("sendFrame: bytes a framing's encode() lends (over 256 KiB) are written before the promise resolves", async () => {
  // A framing that frames nothing: encode() hands back the caller's own array.
  const passThrough: Framing<Uint8Array> = {
    encode: (value) => value,
    decode: (bytes, offset) =>
      offset < bytes.length
        ? { value: bytes.subarray(offset), next: bytes.length }
        : null,
  };
  await using pair = await rawPair({ highWaterMark: 128 * MiB });
  const chunk = streamBytes(0, 64 * KiB);
  const queued = 32 * MiB; // more than the kernel holds: the frame must wait
  for (let sent = 0; sent < queued; sent += chunk.length) {
    await pair.client.send(chunk);
  }
  const big = new Uint8Array(300 * KiB).fill(0xab);
  const sending = pair.client.sendFrame(big, passThrough);
  assert(await isPending(sending), "sendFrame resolved before its bytes left");
  const reading = readToEnd(pair.raw, queued + big.length);
  await within(sending, 10_000, "the frame to be written");
  big.fill(0); // the caller reuses its buffer once the promise resolves
  await pair.client.flush();
  pair.client.close();
  const received = await within(reading, 10_000, "every byte");
  assertEquals(received.length, queued + big.length);
  assert(
    received.subarray(queued).every((byte) => byte === 0xab),
    "the frame's bytes were overwritten before they were written",
  );
});
// ---------------------------------------------------------------------------
// 1. send() takes bytes-like values and strings; anything else is a TypeError

Deno.test("send: an ArrayBuffer, a DataView and a Uint16Array go as their raw bytes", async () => {
  await using pair = await rawPair();
  const words = new Uint16Array([0x4142, 0x4344]); // little-endian: "BADC"
  const buffer = utf8("xy").buffer as ArrayBuffer;
  const view = new DataView(utf8("__z__").buffer, 2, 1);
  await pair.client.send(words);
  await pair.client.send(buffer);
  await pair.client.send(view);
  pair.client.close();
  const received = await within(readToEnd(pair.raw), 5000, "the bytes");
  assertEquals([...received], [
    ...new Uint8Array(words.buffer),
    ...utf8("xy"),
    ...utf8("z"),
  ]);
});

Deno.test("send: a number, an object, a boolean, a bigint, an array or null is a TypeError at once; the socket stays usable", async () => {
  await using pair = await socketPair();
  const bad: unknown[] = [42, { length: 3 }, true, 7n, [1, 2, 3], null];
  for (const value of bad) {
    const error = await within(
      assertRejects(
        () => pair.client.send(value as string),
        TypeError,
      ),
      1000,
      `send(${typeof value})`,
    );
    assert(error.message.startsWith("Cannot send: data must be"));
  }
  // A timeout does not turn a bad value into a broken socket either.
  pair.client.timeout = 50;
  await assertRejects(() => pair.client.send(undefined as never), TypeError);
  await pair.client.send("still fine");
  await within(pair.client.flush(), 1000, "flush");
  assertEquals(text(await pair.peer.recvExactly(10)), "still fine");
});

Deno.test("sendFrame: a value the framing cannot encode is a TypeError; the next frame goes through", async () => {
  await using pair = await socketPair();
  await assertRejects(
    () => pair.client.sendFrame(new ArrayBuffer(3) as unknown as Uint8Array),
    TypeError,
  );
  await pair.client.sendFrame(utf8("ok"));
  assertEquals(text((await pair.peer.recvFrame())!), "ok");
});

Deno.test("sendFrame: a user framing whose encode returns no bytes is a TypeError; the socket stays usable", async () => {
  await using pair = await socketPair();
  const broken: Framing<string> = {
    encode: (value) => value as unknown as Uint8Array,
    decode: () => null,
  };
  const error = await assertRejects(
    () => pair.client.sendFrame("text", broken),
    TypeError,
  );
  assert(error.message.includes("not a Uint8Array"), error.message);
  await pair.client.sendFrame(utf8("ok"));
  assertEquals(text((await pair.peer.recvFrame())!), "ok");
});
