// Tests of transport/listen.ts: opening listeners (Unix sockets).

import { SocketError } from "../../errors.ts";
import { openConnection } from "../../transport/connect.ts";
import { openListener } from "../../transport/listen.ts";
import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { utf8 } from "../_helpers/bytes.ts";
import { readLine } from "../_helpers/sockets.ts";
import { runPython } from "../_helpers/python.ts";
import { socketError, writeAll } from "../_helpers/sockets.ts";
import { exists, removeQuietly, socketPath } from "../_helpers/transports.ts";

/** A Unix client: sends a line, half-closes, prints what came back. */
const PY_UNIX_CLIENT = `
import socket, sys

client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(sys.argv[1])
client.sendall(b"hello over unix\\n")
client.shutdown(socket.SHUT_WR)
answer = b""
while True:
    chunk = client.recv(1024)
    if not chunk:
        break
    answer += chunk
client.close()
print(answer.decode().strip())
`;

Deno.test("unix: a Python AF_UNIX client to a Unix listener; closing it removes the socket file", async () => {
  const path = socketPath(1);
  {
    using listener = openListener({ path });
    assertEquals(listener.addr, { transport: "unix", path });
    assert(Deno.statSync(path).isSocket);
    await using peer = runPython(PY_UNIX_CLIENT, path);
    using conn = await listener.accept();
    assertEquals(conn.localAddr, { transport: "unix", path });
    assertEquals(await readLine(conn), "hello over unix");
    assertEquals(await conn.read(new Uint8Array(8)), null); // half-closed
    await writeAll(conn, utf8("hi from deno"));
    conn.close();
    const { code, stdout, stderr } = await peer.finish();
    assertEquals(code, 0, stderr);
    assertEquals(stdout, "hi from deno\n");
  }
  assertEquals(exists(path), false);
});

Deno.test("unix: a stale socket file from a dead process is EADDRINUSE and is not deleted", async () => {
  const path = socketPath(3);
  // Python binds and exits without unlinking: the file stays behind.
  await using peer = runPython(
    `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
s.close()
print("gone")`,
    path,
  );
  assertEquals(await peer.readLine(), "gone");
  try {
    assert(Deno.statSync(path).isSocket);
    const error = assertThrows(() => openListener({ path }), SocketError);
    assertEquals(error.code, "EADDRINUSE");
    assertStringIncludes(error.message, "not deleted");
    assert(Deno.statSync(path).isSocket, "the stale file was deleted");
    // Connecting to it is refused: nobody listens.
    const refused = await socketError(openConnection({ path }), "ECONNREFUSED");
    assertStringIncludes(refused.message, "nothing listens");
  } finally {
    removeQuietly(path);
  }
});

Deno.test("unix: a path whose directory does not exist is ENOENT", () => {
  const path = socketPath(4);
  const dir = path.slice(0, path.lastIndexOf("/"));
  Deno.removeSync(dir); // Empty: every listener of earlier tests is closed.
  try {
    const error = assertThrows(() => openListener({ path }), SocketError);
    assertEquals(error.code, "ENOENT");
    assertStringIncludes(error.message, "does not exist");
  } finally {
    Deno.mkdirSync(dir);
  }
});

Deno.test("unix: a listener taken by a live server is EADDRINUSE", () => {
  const path = socketPath(5);
  using _first = openListener({ path });
  const error = assertThrows(() => openListener({ path }), SocketError);
  assertEquals(error.code, "EADDRINUSE");
});
