// BufferedWriter (_writer.ts) against a scripted fake sink: each write the
// writer makes is recorded, and the test decides when it completes, how many
// bytes it takes, or that it fails. Only the writer's public methods are used
// (write, writeFrame, writeFrames, flush, fail), so these tests hold whatever
// its internals become.

import { SocketError } from "../errors.ts";
import { type Framing, lengthPrefixed } from "../framing.ts";
import { BufferedWriter, type Sink } from "../io/writer.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
  concat,
} from "./_helpers/assert.ts";
import { delay, isPending, rejection } from "./_helpers/async.ts";
import { Rng } from "./_helpers/random.ts";

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
  assertStrictEquals(writer.error, error);
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
  const flushed = writer.flush();
  // Drain: bounded by the bytes left (each completion takes at least one).
  const total = expected.reduce((sum, bytes) => sum + bytes.length, 0);
  for (let i = 0; i < total && sink.taken().length < total; i++) {
    const call = await sink.call(served++);
    call.complete(rng.range(1, call.bytes.length));
  }
  await flushed;
  await Promise.all(pending);
  assertEquals(sink.taken().length, total);
  assertEquals(sink.taken(), concat(expected));
});

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
