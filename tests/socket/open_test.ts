// socket/open.ts: connect, tryConnect and listen over TCP (IPv4 and IPv6) and
// Unix sockets: refusals, timeouts, aborts and bad arguments.

import {
  connect,
  lengthPrefixed,
  listen,
  serve,
  SocketError,
  tryConnect,
} from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { delay, isPending, rejection, within } from "../_helpers/async.ts";
import { text, utf8 } from "../_helpers/bytes.ts";
import { runPython } from "../_helpers/python.ts";
import { closedPort, fullListener, socketError } from "../_helpers/sockets.ts";
import { removeQuietly, socketPath } from "../_helpers/transports.ts";

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

Deno.test("unix: connect({ path }) to a Python AF_UNIX server; the client end has no name", async () => {
  const path = socketPath(1);
  await using peer = runPython(
    `
import os, socket, struct, sys
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening")
conn, addr = server.accept()
header = conn.recv(4, socket.MSG_WAITALL)
(size,) = struct.unpack("!I", header)
body = conn.recv(size, socket.MSG_WAITALL)
conn.sendall(struct.pack("!I", len(body) * 2) + body * 2)
conn.close()
server.close()
os.unlink(path)
`,
    path,
  );
  assertEquals(await peer.readLine(), "listening");
  await using socket = await connect({ path, framing: lengthPrefixed() });
  assertEquals(socket.transport, "unix");
  assertEquals(socket.localAddr.path, null);
  assertEquals(socket.remoteAddr, { transport: "unix", path });
  await socket.sendFrame(utf8("ab"));
  assertEquals(text((await socket.recvFrame())!), "abab");
  assertEquals(await socket.recvFrame(), null);
  assertEquals((await peer.finish()).code, 0);
});

Deno.test("unix: a missing path is ENOENT (tryConnect: a value)", async () => {
  const path = socketPath(2);
  removeQuietly(path);
  const error = await socketError(connect({ path }), "ENOENT");
  assertStringIncludes(error.message, path);
  const result = await tryConnect({ path });
  assert(!result.ok);
  assertEquals(result.error.code, "ENOENT");
});

Deno.test("unix: listen on a stale socket file from a dead process is EADDRINUSE; the file stays", async () => {
  const path = socketPath(3);
  const output = await runPython(
    `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
# exits without closing or unlinking, like a crashed server`,
    path,
  ).finish();
  assertEquals(output.code, 0, output.stderr);
  try {
    let error: unknown;
    try {
      listen({ path });
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, SocketError);
    assertEquals(error.code, "EADDRINUSE");
    assertStringIncludes(error.message, "not deleted");
    error = undefined;
    try {
      serve({ path }, () => {});
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, SocketError);
    assertEquals(error.code, "EADDRINUSE");
    assert(Deno.statSync(path).isSocket, "the stale file was deleted");
    await socketError(connect({ path }), "ECONNREFUSED");
  } finally {
    removeQuietly(path);
  }
});

Deno.test("unix: a path and a port together, or a path over 107 bytes, are refused before any I/O", async () => {
  const tooLong = "/tmp/" + "s".repeat(110);
  let error: unknown;
  try {
    listen({ path: tooLong });
  } catch (e) {
    error = e;
  }
  assertInstanceOf(error, RangeError);
  error = undefined;
  try {
    await connect(
      { path: "/tmp/x.sock", port: 80 } as Parameters<
        typeof connect
      >[0],
    );
  } catch (e) {
    error = e;
  }
  assertInstanceOf(error, TypeError);
});
