// TcpSocket's writing side over 127.0.0.1: the buffered writer (resolving at
// once below the high-water mark, backpressure above it, batching), frames
// that never interleave, flush, close and closeWrite, and write errors.

import {
  connect,
  decodeFrames,
  encodeFrame,
  lengthPrefixed,
  serve,
} from "../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  concat,
} from "./_helpers/assert.ts";
import { delay, isPending, rejection, within } from "./_helpers/async.ts";
import { KiB, MiB, text, utf8 } from "./_helpers/bytes.ts";
import {
  closeQuietly,
  firstMismatch,
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
} from "./_helpers/sockets.ts";

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

testOverTransports(
  "close(): bytes still in flight when close() is called all arrive, then the end of stream",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const big = streamBytes(0, 16 * MiB); // Over the mark: sent uncopied.
    const sending = pair.client.send(big);
    await delay(50); // Part of it is written; the rest is in flight.
    pair.client.close();
    const received = await within(readToEnd(pair.raw), 10_000, "the bytes");
    assertEquals(received.length, big.length);
    assertEquals(firstMismatch(received, 0), -1);
    await sending;
  },
);

Deno.test("close(): small sends not yet written are flushed before the FIN", async () => {
  await using pair = await rawPair();
  for (let i = 0; i < 100; i++) void pair.client.send(`line ${i}\n`);
  pair.client.close();
  const received = text(await within(readToEnd(pair.raw), 5000, "the lines"));
  assertEquals(received.split("\n").length, 101);
  assert(received.endsWith("line 99\n"));
});

Deno.test("destroy(): after close(), drops what close() is still flushing and closes at once", async () => {
  await using pair = await rawPair({ highWaterMark: 64 * MiB });
  const size = 32 * MiB;
  const chunk = streamBytes(0, 64 * KiB);
  // Queued in the write buffer, not yet written: the peer reads nothing.
  for (let sent = 0; sent < size; sent += chunk.length) {
    void pair.client.send(chunk);
  }
  pair.client.close(); // Flushes in the background...
  await delay(20);
  pair.client.destroy(); // ...until we give up on that.
  const received = await within(
    readToEnd(pair.raw).catch(() => new Uint8Array(0)),
    5000,
    "the end of the stream",
  );
  assert(received.length < size, "every byte arrived despite destroy()");
  assertEquals(firstMismatch(received, 0), -1);
});

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
  "half-close: the client's closeWrite lets the server read to null, then reply; the client reads it",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    await pair.client.send("request, then FIN");
    await pair.client.closeWrite();
    await pair.client.closeWrite(); // Again: harmless.
    const chunks: string[] = [];
    for (let reads = 0; reads < 100; reads++) {
      const chunk = await pair.peer.recv();
      if (chunk === null) break;
      chunks.push(text(chunk));
    }
    assertEquals(chunks.join(""), "request, then FIN");
    await pair.peer.send("reply after your FIN");
    pair.peer.close();
    assertEquals(
      text(await pair.client.recvExactly(20)),
      "reply after your FIN",
    );
    assertEquals(await pair.client.recv(), null);
    // The write side is closed: sending is EPIPE, at once.
    await socketError(pair.client.send("more"), "EPIPE");
    await socketError(pair.client.sendFrame(utf8("more")), "EPIPE");
    await socketError(pair.client.sendFrames([utf8("more")]), "EPIPE");
  },
);

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
