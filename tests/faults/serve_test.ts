// Fault tests over loopback (issue #7, item 2), part 2: serve() under churn
// and failure. 1,000 clients that connect and close at once (and 200 that
// reset), handlers that throw on every other connection, and shutdown() while
// 100 clients are mid-transfer.
//
// Every loop is bounded in count and every wait in time; only 127.0.0.1.
// Run with the project's test flags (see peer_test.ts).

import {
  connect,
  encodeFrame,
  listen,
  serve,
  type TcpSocket,
} from "../../mod.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { within } from "../_helpers/async.ts";
import { KiB, utf8 } from "../_helpers/bytes.ts";
import {
  codeOf,
  echo,
  healthy,
  noFdLeak,
  openFds,
  until,
  watch,
} from "../_helpers/faults.ts";
import { runPython } from "../_helpers/python.ts";
import {
  random,
  socketError,
  streamBytes,
  writeAll,
} from "../_helpers/sockets.ts";

// A Python client that connects and resets at once, `n` times.
const CONNECT_AND_RESET = `
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print("reset", n)
`;

Deno.test("faults: 1,000 clients that connect and close at once (and 200 that reset): every handler ends, onError never called, nothing leaks", async () => {
  const fdsBefore = await openFds();
  const w = watch();
  // A long shutdownTimeout: shutdown() must not need it, every handler ends.
  const server = serve(
    { port: 0, onError: w.onError, shutdownTimeout: 60_000, backlog: 1024 },
    w.wrap(echo),
  );
  const port = server.addr.port;
  const resets = 200;
  const python = runPython(CONNECT_AND_RESET, `${port}`, `${resets}`);
  const closes = 1000;
  const batch = 50;
  for (let first = 0; first < closes; first += batch) {
    await within(
      Promise.all(Array.from({ length: batch }, async (_, i) => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        try {
          // One in three sends a whole frame and goes without reading the
          // reply; the others send nothing.
          if ((first + i) % 3 === 1) {
            await writeAll(conn, encodeFrame(utf8(`bye ${first + i}`)));
          }
        } finally {
          conn.close();
        }
      })),
      20_000,
      `connections ${first} to ${first + batch - 1}`,
    );
  }
  const { code, stderr } = await within(python.finish(), 30_000, "python");
  assertEquals(code, 0, stderr);
  // The server still serves; connections are accepted in order, so once this
  // one is served every earlier one has been accepted (or, for a client that
  // reset before it was accepted, dropped without a handler).
  assert(await within(healthy(port, "after", () => true), 10_000, "a client"));
  await until(
    () => w.ended === w.started,
    30_000,
    `every handler to end (${w.ended} of ${w.started} so far)`,
  );
  assert(
    w.started >= closes + 1 && w.started <= closes + resets + 1,
    `${w.started} handlers started`,
  );
  const started = performance.now();
  await within(server.shutdown(), 10_000, "shutdown");
  await within(server.finished, 1000, "finished");
  const took = performance.now() - started;
  assert(took < 10_000, `shutdown waited ${took} ms for a handler`);
  assertEquals(w.errors, [], "onError was called");
  for (const outcome of w.outcomes) {
    assert(
      ["ok", "ECONNRESET", "EPIPE"].includes(outcome),
      `a handler ended with ${outcome}`,
    );
  }
  await noFdLeak(fdsBefore, "after 1,200 connections");
});

Deno.test("faults: clients that reset before they are accepted do not break accept() or a for-await loop over listen()", async () => {
  await using server = listen();
  const port = server.addr.port;
  // Five connections reset while still in the accept queue, then a real one.
  const python = runPython(CONNECT_AND_RESET, `${port}`, "5");
  const { code, stderr } = await within(python.finish(), 20_000, "python");
  assertEquals(code, 0, stderr);
  await using client = await connect({ port, timeout: 10_000 });
  let served = 0;
  for await (const socket of server) {
    await using _ = socket;
    assertEquals(socket.remoteAddr.port, client.localAddr.port);
    served++;
    break;
  }
  assertEquals(served, 1);
  // accept() after them works too.
  const python2 = runPython(CONNECT_AND_RESET, `${port}`, "3");
  assertEquals((await within(python2.finish(), 20_000, "python")).code, 0);
  await using second = await connect({ port, timeout: 10_000 });
  await using accepted = await within(server.accept(), 10_000, "accept");
  assertEquals(accepted.remoteAddr.port, second.localAddr.port);
});

Deno.test("faults: a handler that throws on every other connection: onError gets exactly those errors; the others are served", async () => {
  const w = watch();
  const server = serve(
    { port: 0, onError: w.onError },
    w.wrap(async (socket) => {
      const first = await socket.recvFrame();
      if (first === null) return;
      const index = first[0];
      if (index % 4 === 1) throw new Error(`boom ${index}`);
      if (index % 4 === 3) {
        // A rejection that is not an Error, after some I/O.
        await socket.sendFrame(utf8("about to fail"));
        await socket.flush();
        return Promise.reject(`string boom ${index}`);
      }
      await socket.sendFrame(first);
      await echo(socket);
    }),
  );
  const port = server.addr.port;
  const results = await within(
    Promise.all(Array.from({ length: 40 }, async (_, index) => {
      await using client = await connect({ port, timeout: 10_000 });
      client.timeout = 10_000;
      await client.sendFrame(new Uint8Array([index]));
      if (index % 2 === 1) {
        if (index % 4 === 3) {
          assertEquals(await client.recvFrame(), utf8("about to fail"));
        }
        // serve closed its socket: the end of the stream.
        assertEquals(await client.recvFrame(), null, `client ${index}`);
        return 0;
      }
      assertEquals(await client.recvFrame(), new Uint8Array([index]));
      let done = 0;
      for (let i = 0; i < 20; i++) {
        const request = streamBytes(index * 1000 + i, 100 + i * 97);
        await client.sendFrame(request);
        assertEquals(await client.recvFrame(), request, `client ${index}`);
        done++;
      }
      return done;
    })),
    30_000,
    "40 clients",
  );
  assertEquals(results, Array.from({ length: 40 }, (_, i) => i % 2 ? 0 : 20));
  await within(server.shutdown(), 10_000, "shutdown");
  const reported = w.errors.map((error) =>
    error instanceof Error ? error.message : String(error)
  ).sort();
  const expected = Array.from({ length: 20 }, (_, k) => 2 * k + 1).map((i) =>
    i % 4 === 1 ? `boom ${i}` : `string boom ${i}`
  ).sort();
  assertEquals(reported, expected);
  assertEquals(w.ended, 40);
});

Deno.test("faults: a handler that throws synchronously on every other connection is reported; the others are served", async () => {
  const errors: unknown[] = [];
  let accepted = 0;
  let ended = 0;
  const server = serve(
    { port: 0, onError: (error) => errors.push(error) },
    (socket: TcpSocket) => {
      const n = accepted++;
      if (n % 2 === 1) throw new Error(`sync boom ${n}`);
      return echo(socket).finally(() => ended++);
    },
  );
  // One client at a time, so the n-th connection is the n-th accepted.
  for (let n = 0; n < 10; n++) {
    await using client = await connect({ port: server.addr.port });
    client.timeout = 10_000;
    if (n % 2 === 1) {
      assertEquals(await client.recvFrame(), null, `client ${n}`);
      continue;
    }
    for (let i = 0; i < 5; i++) {
      const request = streamBytes(n * 100 + i, 1000 + i);
      await client.sendFrame(request);
      assertEquals(await client.recvFrame(), request, `client ${n}`);
    }
  }
  await within(server.shutdown(), 10_000, "shutdown");
  assertEquals(
    errors.map((error) => (error as Error).message),
    ["sync boom 1", "sync boom 3", "sync boom 5", "sync boom 7", "sync boom 9"],
  );
  assertEquals(ended, 5);
});

Deno.test("faults: shutdown() while 100 clients are mid-transfer: each finishes or gets a clean coded error; finished resolves; nothing leaks", async () => {
  const fdsBefore = await openFds();
  const w = watch();
  const shutdownTimeout = 1000;
  const server = serve(
    { port: 0, onError: w.onError, shutdownTimeout },
    w.wrap(echo),
  );
  const port = server.addr.port;
  let roundTrips = 0;
  let bytesVerified = 0;
  const clients = Array.from({ length: 100 }, async (_, c) => {
    const next = random(1000 + c);
    // Some plan few round trips and finish early; most are cut off.
    const planned = c % 10 === 0 ? next(1, 3) : next(10, 100_000);
    let socket: TcpSocket | undefined;
    try {
      socket = await connect({ port, timeout: 10_000 });
      socket.timeout = 20_000;
      for (let i = 0; i < planned; i++) {
        // Frames up to 256 KiB, so many are in flight when the deadline hits.
        const size = next(0, 9) < 8 ? next(0, 8 * KiB) : next(0, 256 * KiB);
        const request = streamBytes(c * 7919 + i, size + 8);
        new DataView(request.buffer).setUint32(0, c);
        new DataView(request.buffer).setUint32(4, i);
        await socket.sendFrame(request);
        const reply = await socket.recvFrame();
        if (reply === null) return "end of stream";
        assertEquals(reply, request, `client ${c}, round trip ${i}`);
        roundTrips++;
        bytesVerified += reply.length;
      }
      await socket.closeWrite();
      assertEquals(await socket.recvFrame(), null, "nothing after the last");
      return "finished";
    } catch (error) {
      return codeOf(error); // Rethrows anything but a coded error.
    } finally {
      socket?.destroy();
    }
  });
  await until(
    () => roundTrips >= 500,
    30_000,
    "500 round trips before shutdown",
  );
  const started = performance.now();
  await within(server.shutdown(), shutdownTimeout + 15_000, "shutdown");
  const took = performance.now() - started;
  await within(server.finished, 1000, "finished");
  const outcomes = await within(Promise.all(clients), 20_000, "the clients");
  const tally: Record<string, number> = {};
  for (const outcome of outcomes) tally[outcome] = (tally[outcome] ?? 0) + 1;
  for (const outcome of Object.keys(tally)) {
    assert(
      [
        "finished",
        "end of stream",
        "ECONNRESET",
        "EPIPE",
        "INCOMPLETE_FRAME",
      ].includes(outcome),
      `a client ended with ${outcome}: ${JSON.stringify(tally)}`,
    );
  }
  assert(
    (tally.finished ?? 0) >= 10,
    `too few finished: ${JSON.stringify(tally)}`,
  );
  assert(took >= shutdownTimeout - 50, `shutdown took only ${took} ms`);
  assert(bytesVerified > 0);
  // Closed at the deadline is not an error of the handler's.
  assertEquals(w.errors, [], "onError was called");
  assertEquals(w.ended, 100);
  // The server is gone: a new connection is refused.
  await socketError(connect({ port }), "ECONNREFUSED");
  await noFdLeak(fdsBefore, "after shutdown");
});
