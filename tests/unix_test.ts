// The socket over Unix domain sockets (connect/listen/serve with `path`),
// against Python AF_UNIX peers written the way the tutorials write them.
// The framed echo, timeouts and half-close over every transport are in
// tls_test.ts.

import {
  connect,
  lengthPrefixed,
  listen,
  serve,
  SocketError,
  tryConnect,
} from "../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
} from "./_helpers/assert.ts";
import { delay, within } from "./_helpers/async.ts";
import { text, utf8 } from "./_helpers/bytes.ts";
import { runPython } from "./_helpers/python.ts";
import { socketError } from "./_helpers/sockets.ts";
import { exists, removeQuietly, socketPath } from "./_helpers/transports.ts";

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
