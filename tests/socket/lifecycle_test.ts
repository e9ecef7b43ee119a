// Tests of socket/lifecycle.ts: closing a stream socket (close, destroy, half-close).

import { assert, assertEquals } from "../_helpers/assert.ts";
import { delay, isPending, within } from "../_helpers/async.ts";
import { KiB, MiB, text, utf8 } from "../_helpers/bytes.ts";
import {
  firstMismatch,
  rawPair,
  readToEnd,
  socketError,
  socketPair,
  streamBytes,
  testOverTransports,
} from "../_helpers/sockets.ts";

Deno.test("TcpSocket.close: idempotent; later calls are ECLOSED; destroy after it is harmless", async () => {
  await using pair = await socketPair();
  pair.client.close();
  pair.client.close();
  pair.client.destroy();
  await socketError(pair.client.send("x"), "ECLOSED");
  await socketError(pair.client.sendFrame(utf8("x")), "ECLOSED");
  await socketError(pair.client.recv(), "ECLOSED");
  await socketError(pair.client.recvFrame(), "ECLOSED");
  await socketError(pair.client.flush(), "ECLOSED");
  await socketError(pair.client.closeWrite(), "ECLOSED");
  assertEquals(await within(pair.peer.recv(), 1000, "end of stream"), null);
});

Deno.test("TcpSocket.close: a recv pending when the socket is closed fails ECLOSED", async () => {
  await using pair = await socketPair();
  const receiving = pair.peer.recv();
  await delay(10);
  pair.peer.close();
  await socketError(within(receiving, 1000, "the pending recv"), "ECLOSED");
});

Deno.test("close(): bytes still buffered are not returned afterwards; every recv method is ECLOSED", async () => {
  await using pair = await socketPair();
  await pair.client.send("abcdef\n");
  await pair.client.sendFrame(utf8("frame"));
  assertEquals(text(await pair.peer.recvExactly(1)), "a");
  assert(pair.peer.buffered > 0, "nothing left buffered");
  pair.peer.close();
  await socketError(pair.peer.recv(), "ECLOSED");
  await socketError(pair.peer.recvExactly(1), "ECLOSED");
  await socketError(pair.peer.recvUntil("\n"), "ECLOSED");
  await socketError(pair.peer.recvFrame(), "ECLOSED");
  const reader = pair.peer.recvStream(3).getReader();
  await socketError(reader.read(), "ECLOSED");
  reader.releaseLock();
});

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

// ---------------------------------------------------------------------------
// 3. close() settles every pending call at once

testOverTransports(
  "close(): a send waiting for room (the peer does not read) rejects at once with ECLOSED, and so does a pending recv",
  async (transport) => {
    await using pair = await rawPair(
      { highWaterMark: 64 * KiB },
      undefined,
      transport,
    );
    const chunk = new Uint8Array(32 * KiB);
    let waiting: Promise<void> | undefined;
    for (let i = 0; i < 4096; i++) {
      const sent = pair.client.send(chunk);
      if (await isPending(sent)) {
        waiting = sent;
        break;
      }
    }
    assert(waiting !== undefined, "no send ever waited for room");
    const receiving = pair.client.recv();
    const flushing = pair.client.flush();
    pair.client.close();
    await within(socketError(waiting, "ECLOSED"), 1000, "the waiting send");
    await within(socketError(receiving, "ECLOSED"), 1000, "the pending recv");
    await within(socketError(flushing, "ECLOSED"), 1000, "the pending flush");
    // What was accepted still arrives once the peer reads, then the end.
    const received = await within(readToEnd(pair.raw), 10_000, "the bytes");
    assert(received.length >= 64 * KiB, `only ${received.length} bytes`);
  },
);
