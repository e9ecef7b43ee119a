// The transport layer alone (transport/): opening TCP, TLS and Unix
// connections and listeners, against Python peers written the way the
// tutorials write them and against raw Deno peers. The socket over these
// transports is tested in tls_test.ts and unix_test.ts.

import { SocketError } from "../errors.ts";
import { checkTransport } from "../transport/check.ts";
import { openConnection } from "../transport/connect.ts";
import { openListener } from "../transport/listen.ts";
import { handshake, isTls, type Opened } from "../transport/tls.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "./_helpers/assert.ts";
import { rejection } from "./_helpers/async.ts";
import { text, utf8 } from "./_helpers/bytes.ts";
import { runPython } from "./_helpers/python.ts";
import {
  closeQuietly,
  readToEnd,
  socketError,
  writeAll,
} from "./_helpers/sockets.ts";
import {
  CA_CERT,
  CERT,
  exists,
  FIXTURE_PATHS,
  KEY,
  removeQuietly,
  socketPath,
  UNTRUSTED_CERT,
  UNTRUSTED_KEY,
} from "./_helpers/transports.ts";

/** Reads one line ("\n" excluded), a byte at a time (bounded). */
async function readLine(conn: Deno.Conn): Promise<string> {
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  for (let i = 0; i < 4096; i++) {
    const n = await conn.read(one);
    if (n === null || one[0] === 10) break;
    bytes.push(one[0]);
  }
  return text(new Uint8Array(bytes));
}

// --- Python peers, as the tutorials write them -----------------------------

/** A TLS echo server: echoes each line upper-cased, then closes plainly. */
const PY_TLS_SERVER = `
import socket, ssl, sys

context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(certfile=sys.argv[1], keyfile=sys.argv[2])

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(5)
print(server.getsockname()[1])

conn, addr = server.accept()
tls = context.wrap_socket(conn, server_side=True)
data = b""
while not data.endswith(b"bye\\n"):
    chunk = tls.recv(1024)
    if not chunk:
        break
    data += chunk
tls.sendall(data.upper())
tls.close()  # no unwrap(): no close_notify, as tutorials do it
server.close()
print("served", len(data))
`;

/** A TLS client: trusts the test CA, sends a line, prints the answer. */
const PY_TLS_CLIENT = `
import socket, ssl, sys

context = ssl.create_default_context(cafile=sys.argv[1])
port = int(sys.argv[2])
with socket.create_connection(("localhost", port)) as sock:
    with context.wrap_socket(sock, server_hostname="localhost") as tls:
        tls.sendall(b"hello over tls\\n")
        answer = b""
        while True:
            chunk = tls.recv(1024)
            if not chunk:
                break
            answer += chunk
        print(answer.decode())
`;

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

// --- TLS -----------------------------------------------------------------

Deno.test("tls: client to a Python ssl server; its plain close() ends the stream", async () => {
  await using peer = runPython(
    PY_TLS_SERVER,
    FIXTURE_PATHS.cert,
    FIXTURE_PATHS.key,
  );
  const port = Number(await peer.readLine());
  const { conn } = await openConnection({
    hostname: "localhost",
    port,
    tls: { caCerts: [CA_CERT] },
    timeout: 5000,
  });
  try {
    assert(isTls(conn));
    await writeAll(conn, utf8("hello\nbye\n"));
    // Python closes without close_notify: that is the end, not an error.
    assertEquals(text(await readToEnd(conn)), "HELLO\nBYE\n");
  } finally {
    conn.close();
  }
  assertEquals(await peer.readLine(), "served 10");
});

Deno.test("tls: a Python client (create_default_context(cafile=...)) to a TLS listener", async () => {
  using listener = openListener({ tls: { cert: CERT, key: KEY } });
  const { port } = listener.addr as Deno.NetAddr;
  await using peer = runPython(PY_TLS_CLIENT, FIXTURE_PATHS.ca, String(port));
  const conn = await listener.accept();
  try {
    assertEquals(await handshake(conn, { timeout: 5000 }), null);
    assertEquals(await readLine(conn), "hello over tls");
    await writeAll(conn, utf8("hi from deno"));
    await conn.closeWrite();
    assertEquals(await readToEnd(conn), new Uint8Array());
  } finally {
    conn.close();
  }
  const { code, stdout, stderr } = await peer.finish();
  assertEquals(code, 0, stderr);
  assertEquals(stdout, "hi from deno\n");
});

Deno.test("tls: connect to 127.0.0.1 and ::1 (IP names in the certificate)", async () => {
  for (const hostname of ["127.0.0.1", "::1"]) {
    using listener = openListener({ hostname, tls: { cert: CERT, key: KEY } });
    const { port } = listener.addr as Deno.NetAddr;
    const accepted = listener.accept().then(async (conn) => {
      await handshake(conn);
      return conn;
    });
    const { conn } = await openConnection({
      hostname,
      port,
      tls: { caCerts: [CA_CERT] },
    });
    using server = await accepted;
    using _client = conn;
    // Deno.startTls reports addresses without `transport`: completed.
    assertEquals(conn.localAddr.transport, "tcp");
    assertEquals(conn.remoteAddr, { transport: "tcp", hostname, port });
    await writeAll(conn, utf8("x"));
    assertEquals(await server.read(new Uint8Array(4)), 1);
  }
});

Deno.test("tls: serverName checks the certificate against a name other than the address", async () => {
  using listener = openListener({ tls: { cert: CERT, key: KEY } });
  const { port } = listener.addr as Deno.NetAddr;
  const serverSide = (async () => {
    for (let i = 0; i < 2; i++) {
      const conn = await listener.accept();
      // A failed handshake closes the connection.
      await handshake(conn).then(() => conn.close(), () => {});
    }
  })();
  const good = await openConnection({
    port,
    tls: { caCerts: [CA_CERT], serverName: "localhost" },
  });
  good.conn.close();
  const error = await socketError(
    openConnection({
      port,
      tls: { caCerts: [CA_CERT], serverName: "example.com" },
    }),
    "ECERT",
  );
  assertStringIncludes(error.message, "certificate was rejected");
  assertStringIncludes(error.message, "example.com");
  await serverSide;
});

Deno.test("tls: ALPN: the protocol both sides name is agreed on", async () => {
  using listener = openListener({
    tls: { cert: CERT, key: KEY, alpnProtocols: ["wire/1", "h2"] },
  });
  const { port } = listener.addr as Deno.NetAddr;
  const accepted = listener.accept().then(async (conn) => ({
    conn,
    protocol: await handshake(conn),
  }));
  const opened: Opened = await openConnection({
    port,
    tls: { caCerts: [CA_CERT], alpnProtocols: ["h2"] },
  });
  const server = await accepted;
  opened.conn.close();
  server.conn.close();
  assertEquals(opened.alpnProtocol, "h2");
  assertEquals(server.protocol, "h2");
});

/**
 * A TCP relay between a client and `target` that records every byte the
 * client sends, to check what went over the wire.
 */
function recordingRelay(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sent: number[] = [];
  const done = (async () => {
    const client = await listener.accept();
    const server = await Deno.connect({ hostname: "127.0.0.1", port: target });
    const pump = async (from: Deno.Conn, to: Deno.Conn, record: boolean) => {
      const buffer = new Uint8Array(16 * 1024);
      try {
        for (let i = 0; i < 1000; i++) {
          const n = await from.read(buffer);
          if (n === null) break;
          if (record) sent.push(...buffer.subarray(0, n));
          await writeAll(to, buffer.subarray(0, n));
        }
      } catch {
        // The other side went away.
      } finally {
        closeQuietly(to);
      }
    };
    await Promise.all([
      pump(client, server, true),
      pump(server, client, false),
    ]);
    closeQuietly(client);
    closeQuietly(server);
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    sent,
    async [Symbol.asyncDispose]() {
      listener.close();
      await done;
    },
  };
}

Deno.test("tls: an untrusted certificate fails the connect (ECERT) before any data", async () => {
  using listener = openListener({
    tls: { cert: UNTRUSTED_CERT, key: UNTRUSTED_KEY },
  });
  const serverSide = listener.accept().then(async (conn) => {
    const failure = await rejection(handshake(conn));
    return failure;
  });
  let clientBytes: number[];
  {
    await using relay = recordingRelay((listener.addr as Deno.NetAddr).port);
    const error = await socketError(
      openConnection({
        port: relay.port,
        tls: { caCerts: [CA_CERT] },
        timeout: 5000,
      }),
      "ECERT",
    );
    assertStringIncludes(error.message, "certificate was rejected");
    assertStringIncludes(error.message, "UnknownIssuer");
    clientBytes = relay.sent;
  }
  // The server saw the client refuse its certificate, and nothing else.
  const failure = await serverSide;
  assertInstanceOf(failure, SocketError);
  assertEquals(failure.code, "ETLS");
  assertStringIncludes(failure.message, "rejected this side's certificate");
  // What the client sent is TLS records only: a ClientHello first (record
  // type 22), then its alert; never application bytes in the clear.
  assert(clientBytes.length > 5, "the client sent no handshake");
  assertEquals(clientBytes[0], 22);
  assertEquals(clientBytes[1], 3);
  for (let at = 0, records = 0; at < clientBytes.length; records++) {
    assert(records < 16, "too many records");
    const type = clientBytes[at];
    assert([20, 21, 22, 23].includes(type), `record type ${type} at ${at}`);
    at += 5 + (clientBytes[at + 3] << 8 | clientBytes[at + 4]);
    assert(at <= clientBytes.length, "a record runs past the end");
  }
});

Deno.test("tls: without caCerts the test CA is not trusted (default roots)", async () => {
  using listener = openListener({ tls: { cert: CERT, key: KEY } });
  const serverSide = listener.accept().then((conn) =>
    rejection(handshake(conn))
  );
  const error = await socketError(
    openConnection({
      hostname: "localhost",
      port: (listener.addr as Deno.NetAddr).port,
      tls: true,
    }),
    "ECERT",
  );
  assertStringIncludes(error.message, "pass the CA's PEM in tls.caCerts");
  await serverSide;
});

Deno.test("tls: a server that answers in plaintext fails the handshake (ETLS)", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serverSide = listener.accept().then(async (conn) => {
    await writeAll(conn, utf8("220 smtp.example.com ESMTP ready\r\n"));
    await readToEnd(conn).catch(() => {});
    conn.close();
  });
  const error = await socketError(
    openConnection({ port: listener.addr.port, tls: true, timeout: 5000 }),
    "ETLS",
  );
  assertStringIncludes(error.message, "TLS handshake failed");
  await serverSide;
});

Deno.test("tls: a server that closes at once fails the handshake (ETLS or ECONNRESET)", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serverSide = listener.accept().then((conn) => conn.close());
  await socketError(
    openConnection({ port: listener.addr.port, tls: true, timeout: 5000 }),
    "ETLS",
    "ECONNRESET",
  );
  await serverSide;
});

Deno.test("tls: a connect whose handshake never completes times out (ETIMEDOUT), nothing left open", async () => {
  // A plain TCP server that accepts and never answers the ClientHello.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const started = performance.now();
  const error = await socketError(
    openConnection({ port: listener.addr.port, tls: true, timeout: 100 }),
    "ETIMEDOUT",
  );
  const took = performance.now() - started;
  assert(took >= 90 && took < 2000, `took ${took} ms`);
  assertStringIncludes(error.message, "timed out after 100 ms");
  // What the server got is a ClientHello (a TLS handshake record) and no
  // more. (Deno closes the TCP socket under an unfinished handshake only
  // once the peer answers or closes: deno#14547 finishes the handshake
  // before shutting down. The resource is released at once.)
  const server = await accepted;
  const hello = new Uint8Array(4096);
  const n = await server.read(hello);
  assert(n !== null && n > 5);
  assertEquals(hello[0], 22);
  server.close();
});

Deno.test("tls: aborting a connect during the handshake is ECANCELED, the reason as cause", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const controller = new AbortController();
  const reason = new Error("user gave up");
  setTimeout(() => controller.abort(reason), 50);
  const error = await socketError(
    openConnection({
      port: listener.addr.port,
      tls: true,
      signal: controller.signal,
    }),
    "ECANCELED",
  );
  assertEquals(error.cause, reason);
  (await accepted).close();
});

Deno.test("tls: an already aborted signal fails before any I/O", async () => {
  const controller = new AbortController();
  controller.abort("no");
  const error = await socketError(
    openConnection({ port: 1, tls: true, signal: controller.signal }),
    "ECANCELED",
  );
  assertEquals(error.cause, "no");
});

Deno.test("tls: server handshakes that fail leave nothing open (plaintext client, closed client, refusing client, slow client)", async () => {
  using listener = openListener({ tls: { cert: CERT, key: KEY } });
  const { port } = listener.addr as Deno.NetAddr;

  // A client that speaks plaintext.
  const plain = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(plain, utf8("GET / HTTP/1.0\r\n\r\n"));
  let failure = await socketError(handshake(await listener.accept()), "ETLS");
  assertStringIncludes(failure.message, "TLS handshake failed");
  plain.close();

  // A client that connects and closes at once.
  const gone = await Deno.connect({ hostname: "127.0.0.1", port });
  gone.close();
  failure = await socketError(
    handshake(await listener.accept()),
    "ETLS",
    "ECONNRESET",
  );

  // A client that does not trust the certificate.
  const refusing = rejection(
    openConnection({ hostname: "localhost", port, tls: true }),
  );
  failure = await socketError(handshake(await listener.accept()), "ETLS");
  assertStringIncludes(failure.message, "rejected this side's certificate");
  assertInstanceOf(await refusing, SocketError);

  // A client that connects and says nothing: the handshake's timeout.
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  failure = await socketError(
    handshake(await listener.accept(), { timeout: 50 }),
    "ETIMEDOUT",
  );
  assertStringIncludes(failure.message, "timed out after 50 ms");
  silent.close();

  // An abort.
  const silent2 = await Deno.connect({ hostname: "127.0.0.1", port });
  const controller = new AbortController();
  const pending = handshake(await listener.accept(), {
    signal: controller.signal,
  });
  controller.abort(new Error("shutdown"));
  failure = await socketError(pending, "ECANCELED");
  assertEquals((failure.cause as Error).message, "shutdown");
  silent2.close();
});

Deno.test("tls: a listener with a bad certificate or a key that does not match fails (ETLS)", () => {
  let error = assertThrows(
    () => openListener({ tls: { cert: "not a certificate", key: KEY } }),
    SocketError,
  );
  assertEquals(error.code, "ETLS");
  assertStringIncludes(error.message, "certificate or key");
  error = assertThrows(
    () => openListener({ tls: { cert: CERT, key: UNTRUSTED_KEY } }),
    SocketError,
  );
  assertEquals(error.code, "ETLS");
});

Deno.test("tls: handshake() on a plain TCP connection resolves at once", async () => {
  using listener = openListener({});
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  using conn = await listener.accept();
  assertEquals(await handshake(conn), null);
  client.close();
});

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

Deno.test("unix: a missing socket path is ENOENT", async () => {
  const path = socketPath(2);
  removeQuietly(path);
  const error = await socketError(openConnection({ path }), "ENOENT");
  assertStringIncludes(error.message, path);
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

// --- Argument checks ---------------------------------------------------------

Deno.test("transport options are checked before any I/O", () => {
  const cases: [
    Parameters<typeof checkTransport>[0],
    "connect" | "listen",
    string,
  ][] = [
    [{ path: "" }, "connect", "path must be a non-empty string"],
    [{ path: 7 }, "connect", "path must be a non-empty string"],
    [{ path: "/tmp/x.sock", port: 80 }, "connect", "not both"],
    [{ path: "/tmp/x.sock", tls: true }, "connect", "TLS over a Unix socket"],
    [{ path: "/tmp/x.sock", reusePort: true }, "listen", "reusePort"],
    [{ tls: "yes" }, "connect", "tls must be true or an object"],
    [{ tls: { caCerts: "pem" } }, "connect", "tls.caCerts"],
    [{ tls: { serverName: "" } }, "connect", "tls.serverName"],
    [{ tls: { alpnProtocols: [1] } }, "connect", "tls.alpnProtocols"],
    [{ tls: true }, "listen", "tls must be an object with cert and key"],
    [{ tls: { cert: CERT } }, "listen", "tls.key must be a PEM string"],
    [
      { tls: { cert: "", key: KEY } },
      "listen",
      "tls.cert must be a PEM string",
    ],
  ];
  for (const [target, side, message] of cases) {
    const error = assertThrows(() => checkTransport(target, side, side));
    assertInstanceOf(error, TypeError);
    assertStringIncludes(error.message, message);
  }
  const long = assertThrows(
    () => checkTransport({ path: "/" + "a".repeat(107) }, "listen", "listen"),
  );
  assertInstanceOf(long, RangeError);
  assertStringIncludes(long.message, "at most 107 bytes, got 108");
  // Valid ones pass.
  checkTransport({ path: "/tmp/x.sock" }, "listen", "listen");
  checkTransport({ port: 1, tls: true }, "connect", "connect");
  checkTransport({ tls: { cert: CERT, key: KEY } }, "listen", "listen");
});
