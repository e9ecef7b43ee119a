// socket/serve.ts: serve() over TCP, TLS and Unix sockets: concurrent
// clients, handlers that throw, peers that go away, shutdown and its deadline,
// idleTimeout and maxConnections, against Deno and Python clients.

import {
  connect,
  encodeFrame,
  FrameError,
  type Framing,
  lengthPrefixed,
  serve,
  SocketError,
  type TcpSocket,
  tryConnect,
} from "../../mod.ts";
import { assert, assertEquals, assertInstanceOf } from "../_helpers/assert.ts";
import { delay, isPending, within } from "../_helpers/async.ts";
import { MiB, text, utf8 } from "../_helpers/bytes.ts";
import { runPython } from "../_helpers/python.ts";
import { Rng } from "../_helpers/random.ts";
import {
  socketError,
  socketPair,
  type Transport,
  TRANSPORTS,
  writeAll,
} from "../_helpers/sockets.ts";
import {
  CA_CERT,
  CERT,
  exists,
  KEY,
  socketPath,
} from "../_helpers/transports.ts";

/** An echo handler: every frame back, until the client's clean end. */
async function echo(socket: TcpSocket): Promise<void> {
  for await (const frame of socket.frames()) await socket.sendFrame(frame);
}

/** Records what serve reports. */
function errorLog(): { errors: unknown[]; onError: (error: unknown) => void } {
  const errors: unknown[] = [];
  return { errors, onError: (error) => errors.push(error) };
}

/** `count` framed round trips; each reply must equal its request. */
async function roundTrips(
  socket: TcpSocket,
  count: number,
  tag: string,
): Promise<number> {
  let done = 0;
  for (let i = 0; i < count; i++) {
    const request = utf8(`${tag}:${i}:${"x".repeat(i % 50)}`);
    await socket.sendFrame(request);
    const reply = await socket.recvFrame();
    assertEquals(reply, request, `${tag}, round trip ${i}`);
    done++;
  }
  return done;
}

Deno.test("serve: 50 concurrent clients × 100 framed round trips, every reply checked", async () => {
  const log = errorLog();
  const server = serve({ port: 0, onError: log.onError }, echo);
  const clients = await Promise.all(
    Array.from({ length: 50 }, () => connect({ port: server.addr.port })),
  );
  const done = await within(
    Promise.all(clients.map((client, c) => roundTrips(client, 100, `c${c}`))),
    20_000,
    "5000 round trips",
  );
  assertEquals(done.reduce((a, b) => a + b, 0), 5000);
  for (const client of clients) client.close();
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(log.errors, []);
});

Deno.test("serve: a handler that throws is reported once and closed; other clients keep working", async () => {
  const log = errorLog();
  const boom = new Error("handler failed on purpose");
  const server = serve({ port: 0, onError: log.onError }, async (socket) => {
    for await (const frame of socket.frames()) {
      if (text(frame) === "boom") throw boom;
      await socket.sendFrame(frame);
    }
  });
  const others = await Promise.all(
    Array.from({ length: 5 }, () => connect({ port: server.addr.port })),
  );
  await using victim = await connect({ port: server.addr.port });
  const working = Promise.all(
    others.map((client, c) => roundTrips(client, 40, `other${c}`)),
  );
  await victim.sendFrame(utf8("boom"));
  // Its socket is closed by serve: the client reads the end of the stream.
  assertEquals(await within(victim.recvFrame(), 2000, "victim's end"), null);
  assertEquals(await within(working, 10_000, "other clients"), [
    40,
    40,
    40,
    40,
    40,
  ]);
  for (const client of others) client.close();
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(log.errors.length, 1);
  assert(log.errors[0] === boom, `reported: ${log.errors[0]}`);
});

Deno.test("serve: a peer that closes between frames ends its handler normally", async () => {
  const log = errorLog();
  let finished = 0;
  const server = serve({ port: 0, onError: log.onError }, async (socket) => {
    await echo(socket);
    finished++;
  });
  for (let i = 0; i < 3; i++) {
    const client = await connect({ port: server.addr.port });
    await roundTrips(client, 2, `client${i}`);
    client.close();
  }
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(finished, 3);
  assertEquals(log.errors, []);
});

Deno.test("serve: a peer that resets (SO_LINGER 0) ends its handler quietly: ECONNRESET, no onError", async () => {
  const log = errorLog();
  const seen: string[] = [];
  const server = serve({ port: 0, onError: log.onError }, async (socket) => {
    try {
      assertEquals(text(await socket.recvExactly(5)), "hello");
      await socket.send("ready");
      await socket.recvFrame(); // The reset arrives here.
    } catch (error) {
      seen.push(error instanceof SocketError ? error.code : `${error}`);
      throw error;
    }
  });
  const python = runPython(
    `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hello")
s.recv(5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
`,
    `${server.addr.port}`,
  );
  const { code, stderr } = await python.finish();
  assertEquals(code, 0, stderr);
  for (let i = 0; i < 100 && seen.length === 0; i++) await delay(10);
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(seen, ["ECONNRESET"]);
  assertEquals(log.errors, []);
});

Deno.test("serve: a handler writing to a peer that went away ends quietly: EPIPE/ECONNRESET, no onError", async () => {
  const log = errorLog();
  const seen: string[] = [];
  const server = serve({ port: 0, onError: log.onError }, async (socket) => {
    try {
      await socket.recvFrame();
      const chunk = new Uint8Array(64 * 1024);
      for (let i = 0; i < 10_000; i++) {
        await socket.send(chunk);
        await socket.flush();
      }
    } catch (error) {
      seen.push(error instanceof SocketError ? error.code : `${error}`);
      throw error;
    }
  });
  const client = await connect({ port: server.addr.port });
  await client.sendFrame(utf8("go"));
  await delay(20);
  client.destroy(); // Our unread replies make this a reset.
  for (let i = 0; i < 200 && seen.length === 0; i++) await delay(10);
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(seen.length, 1);
  assert(["EPIPE", "ECONNRESET"].includes(seen[0]), seen[0]);
  assertEquals(log.errors, []);
});

Deno.test("serve: a FrameError escaping a handler is reported (peer closed mid-frame: INCOMPLETE_FRAME)", async () => {
  const log = errorLog();
  const server = serve({ port: 0, onError: log.onError }, echo);
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  await writeAll(conn, encodeFrame(utf8("0123456789")).subarray(0, 8));
  await conn.closeWrite();
  const reply = await within(conn.read(new Uint8Array(16)), 2000, "the close");
  assertEquals(reply, null);
  conn.close();
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(log.errors.length, 1);
  assertInstanceOf(log.errors[0], FrameError);
  assertEquals(log.errors[0].code, "INCOMPLETE_FRAME");
});

Deno.test("serve: an oversized frame header is FRAME_TOO_LARGE as soon as it arrives; the server closes the client", async () => {
  const log = errorLog();
  const server = serve({ port: 0, onError: log.onError }, echo);
  const client = await connect({ port: server.addr.port });
  // A header announcing 4 GiB (the limit is 16 MiB), and no payload at all.
  await client.send(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  for (let i = 0; i < 200 && log.errors.length === 0; i++) await delay(10);
  assertEquals(log.errors.length, 1);
  assertInstanceOf(log.errors[0], FrameError);
  assertEquals(log.errors[0].code, "FRAME_TOO_LARGE");
  assertEquals(await within(client.recv(), 2000, "the close"), null);
  client.close();
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(log.errors.length, 1);
});

Deno.test("serve: shutdown() stops accepting at once and resolves after the running handlers return", async () => {
  const log = errorLog();
  let handlerReturned = false;
  const server = serve({ port: 0, onError: log.onError }, async (socket) => {
    await socket.sendFrame(utf8("welcome"));
    const request = await socket.recvFrame();
    await socket.sendFrame(request!);
    handlerReturned = true;
  });
  await using client = await connect({ port: server.addr.port });
  assertEquals(text((await client.recvFrame())!), "welcome");
  const stopping = server.shutdown();
  assert(server.shutdown() === stopping, "a second shutdown() started over");
  await delay(50);
  assert(await isPending(stopping), "shutdown did not wait for the handler");
  assert(await isPending(server.finished), "finished before the handler");
  const refused = await tryConnect({ port: server.addr.port });
  assert(!refused.ok && refused.error.code === "ECONNREFUSED");
  // The running handler still works, and its return lets shutdown resolve.
  await client.sendFrame(utf8("last request"));
  assertEquals(text((await client.recvFrame())!), "last request");
  await within(stopping, 2000, "shutdown");
  assert(handlerReturned);
  await within(server.finished, 100, "finished");
  await within(server.shutdown(), 100, "shutdown, again");
  assertEquals(log.errors, []);
});

Deno.test("serve: shutdownTimeout closes a socket whose handler is stuck in recv; it ends quietly", async () => {
  const log = errorLog();
  const seen: string[] = [];
  const entered = Promise.withResolvers<void>();
  const server = serve(
    { port: 0, onError: log.onError, shutdownTimeout: 100 },
    async (socket) => {
      entered.resolve();
      try {
        await socket.recv(); // The client never sends.
      } catch (error) {
        seen.push(error instanceof SocketError ? error.code : `${error}`);
        throw error;
      }
    },
  );
  await using client = await connect({ port: server.addr.port });
  await within(entered.promise, 2000, "the handler");
  const started = performance.now();
  await within(server.shutdown(), 3000, "shutdown");
  const elapsed = performance.now() - started;
  assert(elapsed >= 90, `shutdown took only ${elapsed} ms`);
  await within(server.finished, 100, "finished");
  assertEquals(seen, ["ECLOSED"]);
  assertEquals(log.errors, []);
  assertEquals(await within(client.recv(), 1000, "the close"), null);
});

Deno.test("serve: aborting the signal shuts down like shutdown(), with the same deadline", async () => {
  const log = errorLog();
  const seen: string[] = [];
  const controller = new AbortController();
  const entered = Promise.withResolvers<void>();
  const server = serve(
    {
      port: 0,
      onError: log.onError,
      signal: controller.signal,
      shutdownTimeout: 100,
    },
    async (socket) => {
      entered.resolve();
      try {
        for await (const frame of socket.frames()) {
          await socket.sendFrame(frame);
        }
      } catch (error) {
        seen.push(error instanceof SocketError ? error.code : `${error}`);
        throw error;
      }
    },
  );
  await using client = await connect({ port: server.addr.port });
  await within(entered.promise, 2000, "the handler");
  controller.abort();
  await within(server.finished, 3000, "finished after the abort");
  assertEquals(seen, ["ECLOSED"]);
  assertEquals(log.errors, []);
  const refused = await tryConnect({ port: server.addr.port });
  assert(!refused.ok && refused.error.code === "ECONNREFUSED");
  assertEquals(await within(client.recvFrame(), 1000, "the close"), null);
});

Deno.test("serve: an already-aborted signal serves nothing and finishes at once", async () => {
  let handled = 0;
  const server = serve(
    { port: 0, signal: AbortSignal.abort() },
    () => void handled++,
  );
  await within(server.finished, 1000, "finished");
  const refused = await tryConnect({ port: server.addr.port });
  assert(!refused.ok && refused.error.code === "ECONNREFUSED");
  assertEquals(handled, 0);
});

Deno.test("serve: idleTimeout closes a silent client but not an active one", async () => {
  const log = errorLog();
  const server = serve(
    { port: 0, onError: log.onError, idleTimeout: 150 },
    echo,
  );
  await using silent = await connect({ port: server.addr.port });
  await using active = await connect({ port: server.addr.port });
  const started = performance.now();
  const silentEnd = silent.recv().then(() => performance.now() - started);
  // The active client talks every 30 ms for 600 ms: four idle periods.
  let trips = 0;
  for (let i = 0; i < 20; i++) {
    trips += await roundTrips(active, 1, `active${i}`);
    await delay(30);
  }
  assertEquals(trips, 20);
  const silentAfter = await within(silentEnd, 2000, "the silent close");
  assert(silentAfter >= 140, `closed after only ${silentAfter} ms`);
  assert(silentAfter < 1000, `closed only after ${silentAfter} ms`);
  active.close();
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(log.errors, []);
});

Deno.test("serve: maxConnections 2 closes a third connection at once, and serves again after one leaves", async () => {
  const log = errorLog();
  const server = serve(
    { port: 0, onError: log.onError, maxConnections: 2 },
    echo,
  );
  const first = await connect({ port: server.addr.port });
  await using second = await connect({ port: server.addr.port });
  await roundTrips(first, 1, "first");
  await roundTrips(second, 1, "second");
  {
    await using third = await connect({ port: server.addr.port });
    await third.sendFrame(utf8("anyone?")).catch(() => {});
    const end = await within(
      third.recvFrame().catch((error: SocketError) => error.code),
      1000,
      "the third connection's close",
    );
    assert(end === null || end === "ECONNRESET", `third got ${end}`);
  }
  first.close();
  // Once the first handler has returned, there is room again.
  let served = false;
  for (let attempt = 0; attempt < 50 && !served; attempt++) {
    await using fourth = await connect({ port: server.addr.port });
    await fourth.sendFrame(utf8("me?")).catch(() => {});
    const reply = await fourth.recvFrame().catch(() => null);
    served = reply !== null && text(reply) === "me?";
    if (!served) await delay(20);
  }
  assert(served, "no room after the first client left");
  await roundTrips(second, 1, "second again");
  second.close();
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(log.errors, []);
});

Deno.test("serve: onError that throws does not stop the server", async () => {
  const server = serve(
    {
      port: 0,
      onError: () => {
        throw new Error("onError failed on purpose");
      },
    },
    () => {
      throw new Error("handler failed on purpose");
    },
  );
  const originalError = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    for (let i = 0; i < 2; i++) {
      await using client = await connect({ port: server.addr.port });
      assertEquals(await within(client.recv(), 2000, "the close"), null);
    }
    await within(server.shutdown(), 5000, "shutdown");
  } finally {
    console.error = originalError;
  }
  assertEquals(logged.length, 2);
  assert(String(logged[0][0]).includes("onError threw"));
});
Deno.test("unix: a Python AF_UNIX client (struct length headers) to serve({ path })", async () => {
  const path = socketPath(0);
  const server = serve({ path }, async (socket) => {
    assertEquals(socket.transport, "unix");
    assertEquals(socket.localAddr, { transport: "unix", path });
    for await (const frame of socket.frames()) {
      await socket.sendFrame(utf8(text(frame).toUpperCase()));
    }
  });
  try {
    assertEquals(server.addr, { transport: "unix", path });
    const output = await runPython(
      `
import socket, struct, sys

def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("closed")
        data += chunk
    return data

client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(sys.argv[1])
for word in (b"hello", b"unix", b"x" * 70000):
    client.sendall(struct.pack("!I", len(word)) + word)
    (size,) = struct.unpack("!I", recv_exactly(client, 4))
    answer = recv_exactly(client, size)
    print(len(answer), answer[:5].decode())
client.close()
`,
      path,
    ).finish();
    assertEquals(output.code, 0, output.stderr);
    assertEquals(output.stdout, "5 HELLO\n4 UNIX\n70000 XXXXX\n");
  } finally {
    await server.shutdown();
  }
  assertEquals(exists(path), false);
});

Deno.test("unix: serve options: maxConnections, idleTimeout and shutdown work as over TCP", async () => {
  const path = socketPath(4);
  const errors: unknown[] = [];
  let ended = 0;
  const server = serve({
    path,
    maxConnections: 1,
    idleTimeout: 100,
    onError: (error) => errors.push(error),
  }, async (socket) => {
    try {
      for await (const frame of socket.frames()) await socket.sendFrame(frame);
    } finally {
      ended++;
    }
  });
  try {
    await using first = await connect({ path });
    await first.sendFrame(utf8("1"));
    assertEquals(text((await first.recvFrame())!), "1");
    // Past maxConnections: closed on arrival.
    await using second = await connect({ path });
    assertEquals(
      await within(second.recv(), 2000, "the refused one's end"),
      null,
    );
    // Idle for over 100 ms: the first is closed by the server, quietly.
    await delay(150);
    assertEquals(await within(first.recv(), 2000, "the idle end"), null);
    assertEquals(ended, 1);
  } finally {
    await server.shutdown();
  }
  assertEquals(errors, []);
  assertEquals(exists(path), false);
});
/** The listen and connect options of a server over `transport`. */
function where(transport: Transport, slot = 0) {
  switch (transport) {
    case "tcp":
      return { listen: { port: 0 }, connect: (port: number) => ({ port }) };
    case "tls":
      return {
        listen: { port: 0, tls: { cert: CERT, key: KEY } },
        connect: (port: number) => ({
          hostname: "localhost",
          port,
          tls: { caCerts: [CA_CERT] },
        }),
      };
    case "unix": {
      const path = socketPath(slot);
      return { listen: { path }, connect: (_port: number) => ({ path }) };
    }
  }
}

for (const transport of TRANSPORTS) {
  Deno.test(`${transport}: framed echo of 600 frames of 0..64 KiB and four of 1 MiB through serve`, async () => {
    const framing: Framing<Uint8Array> = lengthPrefixed();
    const { listen: at, connect: to } = where(transport);
    const server = serve({ ...at, framing }, async (socket) => {
      for await (const frame of socket.frames()) await socket.sendFrame(frame);
    });
    const port = (server.addr as Deno.NetAddr).port;
    const rng = new Rng(15);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 600; i++) {
      const size = i % 150 === 75 ? MiB : rng.int(64 * 1024 + 1);
      const frame = new Uint8Array(size);
      for (let j = 0; j < size; j += 997) frame[j] = (i + j) & 255;
      frame[size - 1] = i & 255;
      frames.push(frame);
    }
    try {
      await using client = await connect({
        ...to(port),
        framing,
        timeout: 5000,
      });
      assertEquals(client.transport, transport);
      const sending = client.sendFrames(frames).then(() => client.closeWrite());
      let received = 0;
      for await (const frame of client.frames()) {
        assertEquals(
          frame.length,
          frames[received].length,
          `frame ${received}`,
        );
        assertEquals(frame, frames[received], `frame ${received}`);
        received++;
        assert(received <= frames.length);
      }
      await sending;
      assertEquals(received, frames.length);
    } finally {
      await server.shutdown();
    }
  });

  Deno.test(`${transport}: a recv that times out loses nothing, half-close ends the peer's stream and it can still answer`, async () => {
    await using pair = await socketPair({}, {}, transport);
    const { client, peer } = pair;
    assertEquals(client.transport, transport);
    assertEquals(peer.transport, transport);
    await socketError(client.recv(16, { timeout: 30 }), "ETIMEDOUT");
    await peer.send("late");
    assertEquals(text(await client.recvExactly(4)), "late");
    await client.send("question");
    await client.closeWrite();
    assertEquals(text(await peer.recvExactly(8)), "question");
    assertEquals(await peer.recv(), null);
    await peer.send("answer");
    await peer.closeWrite();
    assertEquals(text(await client.recvExactly(6)), "answer");
    assertEquals(await client.recv(), null);
  });

  Deno.test(`${transport}: close() settles a pending recv with ECLOSED; later calls fail the same way`, async () => {
    await using pair = await socketPair({}, {}, transport);
    const { client, peer } = pair;
    const receiving = client.recv();
    await delay(10);
    client.close();
    await socketError(receiving, "ECLOSED");
    await socketError(client.send("x"), "ECLOSED");
    await socketError(client.flush(), "ECLOSED");
    assertEquals(await peer.recv(), null);
  });
}
