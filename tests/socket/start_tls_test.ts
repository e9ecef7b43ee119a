// Tests of socket/start_tls.ts: startTls() on a plaintext socket.

import { connect, delimited, SocketError } from "../../mod.ts";
import {
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { delay, rejection } from "../_helpers/async.ts";
import { text, utf8 } from "../_helpers/bytes.ts";
import { runPython } from "../_helpers/python.ts";
import { socketError, socketPair } from "../_helpers/sockets.ts";
import { CA_CERT, FIXTURE_PATHS } from "../_helpers/transports.ts";

// --- STARTTLS ----------------------------------------------------------------

/**
 * A line protocol server: "STARTTLS" is answered "OK" (and, with
 * argv[3] == "inject", extra plaintext right after it; with "late", the
 * extra plaintext 100 ms later), then the socket is wrapped and lines are
 * echoed upper-cased over TLS.
 */
const PY_STARTTLS_SERVER = `
import socket, ssl, sys, time

context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(certfile=sys.argv[1], keyfile=sys.argv[2])
mode = sys.argv[3]
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(5)
print(server.getsockname()[1])
conn, addr = server.accept()
conn.sendall(b"220 ready\\n")
line = b""
while not line.endswith(b"\\n"):
    line += conn.recv(1)
if line != b"STARTTLS\\n":
    print("unexpected", line)
    sys.exit(1)
if mode == "inject":
    conn.sendall(b"OK\\nINJECTED\\n")
elif mode == "late":
    conn.sendall(b"OK\\n")
    time.sleep(0.1)
    conn.sendall(b"INJECTED\\n")
else:
    conn.sendall(b"OK\\n")
try:
    tls = context.wrap_socket(conn, server_side=True)
except (ssl.SSLError, OSError) as error:
    print("handshake failed")
    sys.exit(0)
data = b""
while True:
    chunk = tls.recv(1024)
    if not chunk:
        break
    data += chunk
    if data.endswith(b"\\n"):
        tls.sendall(data.upper())
        data = b""
tls.close()
print("done")
`;

Deno.test("startTls: upgrades after the server's OK; the plaintext socket is ECLOSED afterwards", async () => {
  await using peer = runPython(
    PY_STARTTLS_SERVER,
    FIXTURE_PATHS.cert,
    FIXTURE_PATHS.key,
    "plain",
  );
  const port = Number(await peer.readLine());
  const lines = delimited();
  const plain = await connect({ port, framing: lines, timeout: 5000 });
  plain.timeout = 5000;
  assertEquals(text((await plain.recvFrame())!), "220 ready");
  await plain.sendFrame(utf8("STARTTLS"));
  assertEquals(text((await plain.recvFrame())!), "OK");
  await using secure = await plain.startTls({
    caCerts: [CA_CERT],
    hostname: "localhost",
  });
  assertEquals(secure.transport, "tls");
  assertEquals(secure.timeout, 5000);
  await secure.sendFrame(utf8("over tls now"));
  assertEquals(text((await secure.recvFrame())!), "OVER TLS NOW");
  // The plaintext socket is spent.
  await socketError(plain.recv(), "ECLOSED");
  await socketError(plain.send("x"), "ECLOSED");
  await socketError(plain.startTls({ hostname: "localhost" }), "ECLOSED");
  plain.close(); // Harmless: the TLS socket owns the connection.
  await secure.sendFrame(utf8("still fine"));
  assertEquals(text((await secure.recvFrame())!), "STILL FINE");
  await secure.closeWrite();
  assertEquals(await secure.recvFrame(), null);
  assertEquals(await peer.readLine(), "done");
});

Deno.test("startTls: plaintext sent right after the OK is refused; no byte of it is returned by any read", async () => {
  for (const mode of ["inject", "late"]) {
    await using peer = runPython(
      PY_STARTTLS_SERVER,
      FIXTURE_PATHS.cert,
      FIXTURE_PATHS.key,
      mode,
    );
    const port = Number(await peer.readLine());
    const lines = delimited();
    await using plain = await connect({ port, framing: lines, timeout: 5000 });
    assertEquals(text((await plain.recvFrame())!), "220 ready");
    await plain.sendFrame(utf8("STARTTLS"));
    // "inject": OK and the injected line arrive together: the line is
    // buffered when startTls is called (EPROTO). "late": it arrives during
    // the handshake, which reads it as a TLS record and fails (ETLS).
    // Waiting for the whole "inject" write to be read makes the first case
    // deterministic.
    assertEquals(text((await plain.recvFrame())!), "OK");
    if (mode === "inject") {
      for (let i = 0; i < 100 && plain.buffered === 0; i++) await delay(5);
      assertEquals(plain.buffered, "INJECTED\n".length);
    }
    const error = await socketError(
      plain.startTls({ caCerts: [CA_CERT], hostname: "localhost" }),
      mode === "inject" ? "EPROTO" : "ETLS",
    );
    if (mode === "inject") {
      assertStringIncludes(error.message, "CVE-2011-0411");
    }
    // No read returns the injected bytes: the socket is closed.
    const after = await rejection(plain.recvFrame());
    assertInstanceOf(after, SocketError);
    assertEquals(plain.buffered, 0);
    await socketError(plain.recv(), after.code);
    const { code, stdout } = await peer.finish();
    assertEquals(code, 0);
    assertStringIncludes(stdout, "handshake failed");
  }
});

Deno.test("startTls: with a receive still pending it is EBUSY and the socket is unchanged", async () => {
  await using pair = await socketPair();
  const { client, peer } = pair;
  await socketError(client.recv(8, { timeout: 20 }), "ETIMEDOUT");
  const busy = await socketError(
    client.startTls({ hostname: "localhost" }),
    "EBUSY",
  );
  assertStringIncludes(busy.message, "unchanged");
  await peer.send("still plain");
  assertEquals(text(await client.recvExactly(11)), "still plain");
  await client.send("ok");
  assertEquals(text(await peer.recvExactly(2)), "ok");
});

Deno.test("startTls: unread bytes already buffered: EPROTO, the socket closed, the bytes never returned", async () => {
  await using pair = await socketPair();
  const { client, peer } = pair;
  await peer.send("abcdef");
  assertEquals(text(await client.recvExactly(1)), "a");
  for (let i = 0; i < 100 && client.buffered < 5; i++) await delay(5);
  assertEquals(client.buffered, 5);
  const error = await socketError(
    client.startTls({ hostname: "localhost" }),
    "EPROTO",
  );
  assertStringIncludes(error.message, "5 bytes");
  assertEquals(client.buffered, 0);
  await socketError(client.recv(), "EPROTO");
  await socketError(client.recvExactly(5), "EPROTO");
  // The connection is closed: the peer sees the end.
  assertEquals(await peer.recv(), null);
});

Deno.test("startTls: over TLS or a Unix socket is a TypeError", async () => {
  for (const transport of ["tls", "unix"] as const) {
    await using pair = await socketPair({}, {}, transport);
    const error = await rejection(pair.client.startTls());
    assertInstanceOf(error, TypeError);
    // The socket is unchanged.
    await pair.peer.send("x");
    assertEquals(text(await pair.client.recvExactly(1)), "x");
  }
});
