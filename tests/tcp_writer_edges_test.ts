// Edges of the buffered writer and of option checking: flush waits only for
// the bytes sent before it, bytes a custom framing lends are not reused
// before they are written, a connection busy writing is not idle, and bad
// durations are refused before any I/O.

import { connect, type Framing, listen, serve } from "../mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
} from "./_helpers/assert.ts";
import { isPending, within } from "./_helpers/async.ts";
import { KiB, MiB } from "./_helpers/bytes.ts";
import {
  closedPort,
  rawPair,
  readToEnd,
  streamBytes,
} from "./_helpers/sockets.ts";

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

Deno.test("idleTimeout: a connection busy sending to a slow reader is not idle", async () => {
  // ~1.6 s of sending at the reader's pace, well past the idle timeout; the
  // kernel wakes a blocked writer only every few hundred KiB read, so the
  // timeout must be long compared to that gap.
  const size = 16 * MiB;
  const errors: unknown[] = [];
  const server = serve(
    { port: 0, idleTimeout: 800, onError: (error) => errors.push(error) },
    async (socket) => {
      await socket.send(streamBytes(0, size)); // the client sends nothing
      await socket.flush();
    },
  );
  try {
    await using client = await connect({ port: server.addr.port });
    let received = 0;
    for (let reads = 0; received < size && reads < 10_000; reads++) {
      const chunk = await client.recv(256 * KiB);
      if (chunk === null) break;
      received += chunk.length;
      await new Promise((resolve) => setTimeout(resolve, 25)); // a slow reader
    }
    assertEquals(received, size, "the server closed a connection busy sending");
  } finally {
    await server.shutdown();
  }
  assertEquals(errors, []);
});

Deno.test("timeouts: negative or NaN durations are a RangeError before any I/O", async () => {
  await assertRejects(
    () => connect({ port: closedPort(), timeout: -1 }),
    RangeError,
  );
  assertThrows(
    () => serve({ port: 0, idleTimeout: NaN }, () => {}),
    RangeError,
  );
  assertThrows(
    () => serve({ port: 0, shutdownTimeout: -5 }, () => {}),
    RangeError,
  );
  assertThrows(
    () => serve({ port: 0, maxConnections: 1.5 }, () => {}),
    RangeError,
  );
  await using server = listen();
  await using client = await connect({ port: server.addr.port });
  await using _peer = await server.accept();
  assertThrows(() => client.timeout = -1, RangeError);
  assertThrows(() => client.idleTimeout = NaN, RangeError);
  client.timeout = 0; // zero is allowed: fail at once unless ready
  assertEquals(client.timeout, 0);
});

Deno.test("idleTimeout: a peer that stops reading while the handler sends is closed, quietly", async () => {
  const errors: unknown[] = [];
  let handlerEnded = false;
  const server = serve(
    { port: 0, idleTimeout: 300, onError: (error) => errors.push(error) },
    async (socket) => {
      try {
        // Far more than the kernel buffers: the send waits on the peer.
        await socket.send(new Uint8Array(64 * MiB));
      } finally {
        handlerEnded = true;
      }
    },
  );
  try {
    await using client = await connect({ port: server.addr.port });
    for (let waited = 0; !handlerEnded && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert(
      handlerEnded,
      "the handler still waits on a peer that reads nothing",
    );
    // The server closed the connection: reading drains to the end.
    let received = 0;
    for (let reads = 0; reads < 100_000; reads++) {
      const chunk = await within(client.recv(), 5000, "the end of stream");
      if (chunk === null) break;
      received += chunk.length;
    }
    assert(received < 64 * MiB, "every byte arrived: the peer was not stalled");
  } finally {
    await server.shutdown();
  }
  assertEquals(errors, []);
});
