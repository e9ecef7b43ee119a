// TCP connections over 127.0.0.1: connect, tryConnect, listen, the server's
// life cycle, and closing sockets. Reading: tcp_read_test.ts. Writing:
// tcp_write_test.ts. serve(): tcp_serve_test.ts. Python peers:
// tcp_interop_test.ts.

import {
  connect,
  listen,
  serve,
  SocketError,
  type TcpSocket,
  tryConnect,
} from "../mod.ts";
import { assert, assertEquals, assertInstanceOf } from "./_helpers/assert.ts";
import { delay, isPending, rejection, within } from "./_helpers/async.ts";
import { text, utf8 } from "./_helpers/bytes.ts";
import {
  closedPort,
  fullListener,
  socketError,
  socketPair,
} from "./_helpers/sockets.ts";

Deno.test("connect: a client and an accepted peer exchange bytes and see each other's address", async () => {
  await using server = listen();
  assertEquals(server.addr.hostname, "127.0.0.1");
  assert(server.addr.port > 0, "the OS picked no port");
  await using client = await connect({ port: server.addr.port });
  await using peer = await server.accept();
  assertEquals(client.remoteAddr.port, server.addr.port);
  assertEquals(peer.remoteAddr.port, client.localAddr.port);
  assertEquals(peer.localAddr.port, server.addr.port);
  await client.send("ping");
  assertEquals(text(await peer.recvExactly(4)), "ping");
  await peer.send(utf8("pong"));
  assertEquals(text(await client.recvExactly(4)), "pong");
});

Deno.test("connect: a port nothing listens on is ECONNREFUSED, the runtime's error as cause", async () => {
  const port = closedPort();
  const error = await socketError(connect({ port }), "ECONNREFUSED");
  assertInstanceOf(error.cause, Deno.errors.ConnectionRefused);
  assert(error.message.includes(`${port}`), error.message);
});

Deno.test("tryConnect: a refused connection is a value, a successful one a socket", async () => {
  const refused = await tryConnect({ port: closedPort() });
  assert(!refused.ok, "connected to a closed port");
  assertInstanceOf(refused.error, SocketError);
  assertEquals(refused.error.code, "ECONNREFUSED");

  await using server = listen();
  const result = await tryConnect({ port: server.addr.port });
  assert(result.ok, "could not connect to a listening port");
  await using socket = result.socket;
  await using peer = await server.accept();
  await socket.send("x");
  assertEquals(text(await peer.recvExactly(1)), "x");
});

Deno.test("connect: a listener whose accept queue is full drops the SYN; timeout 200 is ETIMEDOUT", async () => {
  await using full = await fullListener();
  const started = performance.now();
  const error = await socketError(
    connect({ port: full.port, timeout: 200 }),
    "ETIMEDOUT",
  );
  const elapsed = performance.now() - started;
  assert(elapsed >= 190, `timed out after only ${elapsed} ms`);
  assert(elapsed < 2000, `took ${elapsed} ms to time out`);
  assert(error.message.includes("200 ms"), error.message);

  const result = await tryConnect({ port: full.port, timeout: 100 });
  assert(!result.ok, "connected to a full accept queue");
  assertEquals(result.error.code, "ETIMEDOUT");
});

Deno.test("connect: aborting the signal mid-connect is ECANCELED with the reason as cause", async () => {
  await using full = await fullListener();
  const controller = new AbortController();
  const reason = new Error("user gave up");
  const connecting = connect({ port: full.port, signal: controller.signal });
  await delay(50);
  assert(await isPending(connecting), "connect settled before the abort");
  controller.abort(reason);
  const error = await socketError(
    within(connecting, 1000, "aborted connect"),
    "ECANCELED",
  );
  assertEquals(error.cause, reason);
});

Deno.test("connect: an already-aborted signal is ECANCELED at once, even to an open port", async () => {
  await using server = listen();
  const reason = new Error("too late");
  const error = await socketError(
    connect({ port: server.addr.port, signal: AbortSignal.abort(reason) }),
    "ECANCELED",
  );
  assertEquals(error.cause, reason);
  const result = await tryConnect({
    port: server.addr.port,
    signal: AbortSignal.abort(reason),
  });
  assert(!result.ok && result.error.code === "ECANCELED");
});

Deno.test("connect: an invalid port is a RangeError, thrown by tryConnect too", async () => {
  for (const port of [0, -1, 65536, 1.5, NaN]) {
    assertInstanceOf(await rejection(connect({ port })), RangeError);
    assertInstanceOf(await rejection(tryConnect({ port })), RangeError);
  }
});

Deno.test("connect, tryConnect, listen and serve: a highWaterMark that is not positive is a RangeError, nothing opened", async () => {
  await using server = listen();
  for (const highWaterMark of [0, -1, NaN]) {
    const options = { port: server.addr.port, highWaterMark };
    assertInstanceOf(await rejection(connect(options)), RangeError);
    assertInstanceOf(await rejection(tryConnect(options)), RangeError);
    for (
      const open of [
        () => listen({ highWaterMark }),
        () => serve({ highWaterMark }, () => {}),
      ]
    ) {
      let error: unknown;
      try {
        open();
      } catch (caught) {
        error = caught;
      }
      assertInstanceOf(error, RangeError);
    }
  }
});

Deno.test("listen: a port already taken is EADDRINUSE, for listen and serve", async () => {
  await using server = listen();
  const port = server.addr.port;
  let error: unknown;
  try {
    listen({ port });
  } catch (caught) {
    error = caught;
  }
  assertInstanceOf(error, SocketError);
  assertEquals(error.code, "EADDRINUSE");
  error = undefined;
  try {
    serve({ port }, () => {});
  } catch (caught) {
    error = caught;
  }
  assertInstanceOf(error, SocketError);
  assertEquals(error.code, "EADDRINUSE");
});

Deno.test("listen: an invalid port is a RangeError", () => {
  for (const port of [-1, 65536, 0.5]) {
    let error: unknown;
    try {
      listen({ port });
    } catch (caught) {
      error = caught;
    }
    assertInstanceOf(error, RangeError);
  }
});

Deno.test("TcpServer.close: a pending accept fails ECLOSED, later ones too; closing again is harmless", async () => {
  const server = listen();
  const accepting = server.accept();
  server.close();
  await socketError(accepting, "ECLOSED");
  await socketError(server.accept(), "ECLOSED");
  server.close();
  await server[Symbol.asyncDispose]();
  const result = await tryConnect({ port: server.addr.port });
  assert(!result.ok && result.error.code === "ECONNREFUSED");
});

Deno.test("TcpServer: closing it ends a for await loop over it", async () => {
  const server = listen();
  const clients: TcpSocket[] = [];
  const accepted: TcpSocket[] = [];
  const loop = (async () => {
    for await (const socket of server) {
      accepted.push(socket);
      if (accepted.length === 2) server.close();
    }
  })();
  for (let i = 0; i < 2; i++) {
    clients.push(await connect({ port: server.addr.port }));
  }
  await within(loop, 2000, "the loop to end after close()");
  assertEquals(accepted.length, 2);
  for (const socket of [...clients, ...accepted]) socket.close();
});

Deno.test("TcpServer: breaking out of for await leaves it listening", async () => {
  await using server = listen();
  await using first = await connect({ port: server.addr.port });
  for await (const socket of server) {
    assertEquals(socket.remoteAddr.port, first.localAddr.port);
    socket.close();
    break;
  }
  await using second = await connect({ port: server.addr.port });
  await using peer = await within(server.accept(), 1000, "a second accept");
  assertEquals(peer.remoteAddr.port, second.localAddr.port);
  // A new loop over the same server picks up the next connection.
  await using third = await connect({ port: server.addr.port });
  for await (const socket of server) {
    assertEquals(socket.remoteAddr.port, third.localAddr.port);
    socket.close();
    break;
  }
});

Deno.test("await using: the server and a client are closed at the end of their blocks", async () => {
  let port = 0;
  {
    await using server = listen();
    port = server.addr.port;
  }
  // Nothing listens on that port any more.
  const refused = await tryConnect({ port });
  assert(!refused.ok && refused.error.code === "ECONNREFUSED");

  await using server = listen();
  let peer: TcpSocket;
  {
    await using client = await connect({ port: server.addr.port });
    peer = await server.accept();
    await client.send("bye");
  }
  // The client's bytes were flushed, then its FIN arrived.
  assertEquals(text(await peer.recvExactly(3)), "bye");
  assertEquals(await within(peer.recv(), 1000, "end of stream"), null);
  peer.close();
});

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

Deno.test("connect and serve over IPv6 loopback (::1)", async () => {
  const server = serve({ hostname: "::1", port: 0 }, async (socket) => {
    for await (const frame of socket.frames()) await socket.sendFrame(frame);
  });
  assertEquals(server.addr.hostname, "::1");
  await using client = await connect({
    hostname: "::1",
    port: server.addr.port,
  });
  assertEquals(client.remoteAddr.hostname, "::1");
  await client.sendFrame(utf8("over v6"));
  assertEquals(text((await client.recvFrame())!), "over v6");
  client.close();
  await within(server.shutdown(), 5000, "shutdown");
});

Deno.test({
  name: "connect and listen without net permission are SocketError EPERM",
  permissions: { net: false },
  async fn() {
    const error = await socketError(connect({ port: 9 }), "EPERM");
    assert(error.cause instanceof Error, "no runtime error as cause");
    const result = await tryConnect({ port: 9 });
    assert(!result.ok && result.error.code === "EPERM");
    let thrown: unknown;
    try {
      listen();
    } catch (caught) {
      thrown = caught;
    }
    assertInstanceOf(thrown, SocketError);
    assertEquals(thrown.code, "EPERM");
  },
});
