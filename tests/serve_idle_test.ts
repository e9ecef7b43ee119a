// serve's idleTimeout against a peer that reads slowly but steadily (issue
// #13, item 7): the runtime completes a write only once the kernel's send
// buffer is a third free, so a socket sending to a 640 KiB/s reader sees no
// completed write for seconds at a time. Such a connection is busy, not idle;
// a reader that stops altogether is still closed.

import { serve, SocketError } from "../mod.ts";
import { assert, assertGreater } from "./_helpers/assert.ts";
import { delay, within } from "./_helpers/async.ts";
import { KiB, MiB } from "./_helpers/bytes.ts";

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
