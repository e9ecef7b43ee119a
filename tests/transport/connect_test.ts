// transport/connect.ts: openConnection() to Unix sockets, against Python
// AF_UNIX servers.

import { openConnection } from "../../transport/connect.ts";
import { assertEquals, assertStringIncludes } from "../_helpers/assert.ts";
import { text, utf8 } from "../_helpers/bytes.ts";
import { runPython } from "../_helpers/python.ts";
import { readToEnd, socketError, writeAll } from "../_helpers/sockets.ts";
import { removeQuietly, socketPath } from "../_helpers/transports.ts";

/** A Unix echo server (AF_UNIX): echoes what it gets until the client half-closes. */
const PY_UNIX_SERVER = `
import os, socket, sys

path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(5)
print("listening")
conn, addr = server.accept()
print("peer", repr(addr))
while True:
    data = conn.recv(1024)
    if not data:
        break
    conn.sendall(data)
conn.close()
server.close()
os.unlink(path)
`;

// --- Unix domain sockets ---------------------------------------------------

Deno.test("unix: connect to a Python AF_UNIX server; addresses as the runtime gives them", async () => {
  const path = socketPath(0);
  await using peer = runPython(PY_UNIX_SERVER, path);
  assertEquals(await peer.readLine(), "listening");
  const { conn } = await openConnection({ path, timeout: 5000 });
  try {
    // The client end is unnamed.
    assertEquals(conn.localAddr, { transport: "unix", path: null });
    assertEquals(conn.remoteAddr, { transport: "unix", path });
    await writeAll(conn, utf8("ping"));
    await conn.closeWrite();
    assertEquals(text(await readToEnd(conn)), "ping");
  } finally {
    conn.close();
  }
  // Python sees an unnamed peer too.
  assertEquals(await peer.readLine(), "peer ''");
  assertEquals((await peer.finish()).code, 0);
});

Deno.test("unix: a missing socket path is ENOENT", async () => {
  const path = socketPath(2);
  removeQuietly(path);
  const error = await socketError(openConnection({ path }), "ENOENT");
  assertStringIncludes(error.message, path);
});
