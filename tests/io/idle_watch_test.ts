// io/idle_watch.ts: idleTimeout. A socket that neither receives nor gets its
// bytes taken by the peer for that long is closed; traffic either way keeps it
// open.

import { connect, serve, SocketError } from "../../mod.ts";
import { assert, assertEquals, assertGreater } from "../_helpers/assert.ts";
import { delay, within } from "../_helpers/async.ts";
import { KiB, MiB, text } from "../_helpers/bytes.ts";
import { socketError, socketPair, streamBytes } from "../_helpers/sockets.ts";

const IDLE = 1000;

/** A server that sends 64 KiB chunks until its socket closes; resolves with when it did, and why. */
function sendingServer() {
  const ended = Promise.withResolvers<{ at: number; code: string }>();
  const errors: unknown[] = [];
  const server = serve({
    port: 0,
    idleTimeout: IDLE,
    shutdownTimeout: 500,
    onError: (error) => errors.push(error),
  }, async (socket) => {
    const chunk = new Uint8Array(64 * KiB).fill(0x61);
    try {
      for (;;) await socket.send(chunk);
    } catch (error) {
      ended.resolve({
        at: performance.now(),
        code: error instanceof SocketError ? error.code : String(error),
      });
      throw error;
    }
  });
  return { server, ended: ended.promise, errors };
}

/** Reads 64 KiB every 100 ms (~640 KiB/s) until `stopAt`; returns the bytes read. */
async function steadyReader(conn: Deno.Conn, stopAt: number): Promise<number> {
  const buffer = new Uint8Array(64 * KiB);
  let total = 0;
  while (performance.now() < stopAt) {
    let want = buffer.length;
    while (want > 0) {
      const n = await conn.read(buffer.subarray(0, want));
      if (n === null) return total;
      total += n;
      want -= n;
    }
    await delay(100);
  }
  return total;
}

Deno.test("idleTimeout: a steady reader at ~640 KiB/s stays connected for 5 s; once it stops reading it is closed", async () => {
  const { server, ended, errors } = sendingServer();
  const conn = await Deno.connect({ port: server.addr.port });
  try {
    const start = performance.now();
    const read = await steadyReader(conn, start + 5000);
    let closedEarly = false;
    await Promise.race([ended.then(() => closedEarly = true), delay(0)]);
    assert(!closedEarly, "the server closed a connection that was reading");
    assertGreater(read, 2 * MiB, `only ${read} bytes read in 5 s`);
    // The reader stops: the connection is closed within the bound.
    const stopped = performance.now();
    const { at, code } = await within(ended, 15_000, "the idle close");
    assert(code === "ECLOSED", `ended with ${code}`);
    const after = at - stopped;
    assert(
      after < 4 * IDLE + 2000,
      `closed ${Math.round(after)} ms after the reader stopped`,
    );
    assert(errors.length === 0, `onError was called: ${errors}`);
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("idleTimeout: a socket that receives nothing for that long closes itself; bytes keep it open", async () => {
  await using pair = await socketPair();
  pair.peer.idleTimeout = 100;
  assertEquals(pair.peer.idleTimeout, 100);
  for (let i = 0; i < 5; i++) {
    await delay(40);
    await pair.client.send(`${i}`);
    assertEquals(text(await pair.peer.recvExactly(1)), `${i}`);
  }
  const started = performance.now();
  const error = await socketError(
    within(pair.peer.recv(), 2000, "the idle close"),
    "ECLOSED",
  );
  const elapsed = performance.now() - started;
  assert(elapsed >= 50 && elapsed < 1000, `closed after ${elapsed} ms`);
  assert(error.message.includes("idleTimeout"), error.message);
  assertEquals(await within(pair.client.recv(), 1000, "the FIN"), null);
  // Turning it off: no timer is left behind (the sanitizers check).
  await using other = await socketPair();
  other.peer.idleTimeout = 50;
  other.peer.idleTimeout = undefined;
  await delay(80);
  await other.client.send("still open");
  assertEquals(text(await other.peer.recvExactly(10)), "still open");
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
