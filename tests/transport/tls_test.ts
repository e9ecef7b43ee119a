// transport/tls.ts: connections and listeners over TLS, alone
// (openConnection/openListener, handshake) and through the socket
// (connect/serve with `tls`), against Python ssl peers written the way the
// tutorials write them and against this module's own server.

import {
  connect,
  delimited,
  listen,
  serve,
  SocketError,
  tryConnect,
} from "../../mod.ts";
import { openConnection } from "../../transport/connect.ts";
import { openListener } from "../../transport/listen.ts";
import { handshake, isTls, type Opened } from "../../transport/tls.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { delay, rejection, within } from "../_helpers/async.ts";
import { text, utf8 } from "../_helpers/bytes.ts";
import { readLine } from "../_helpers/sockets.ts";
import { runPython } from "../_helpers/python.ts";
import {
  closeQuietly,
  frameError,
  readToEnd,
  socketError,
  writeAll,
} from "../_helpers/sockets.ts";
import {
  CA_CERT,
  CERT,
  FIXTURE_PATHS,
  KEY,
  UNTRUSTED_CERT,
  UNTRUSTED_KEY,
} from "../_helpers/transports.ts";

// --- TLS against Python ------------------------------------------------------

/** A TLS echo server for 4-byte big-endian length-prefixed frames (struct). */
const PY_TLS_FRAMED_SERVER = `
import socket, ssl, struct, sys

context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(certfile=sys.argv[1], keyfile=sys.argv[2])
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(5)
print(server.getsockname()[1])

def recv_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data

conn, addr = server.accept()
tls = context.wrap_socket(conn, server_side=True)
count = 0
while True:
    header = recv_exactly(tls, 4)
    if header is None:
        break
    (size,) = struct.unpack("!I", header)
    body = recv_exactly(tls, size)
    if body == b"cut":
        tls.sendall(struct.pack("!I", 10) + b"abc")  # a frame cut short
        break
    tls.sendall(struct.pack("!I", len(body)) + body.upper())
    count += 1
tls.close()  # no close_notify, as tutorials do it
print("echoed", count)
`;

Deno.test("tls: connect to a Python ssl server; frames both ways; its plain close() is the end; a frame cut by it is INCOMPLETE_FRAME", async () => {
  for (const cut of [false, true]) {
    await using peer = runPython(
      PY_TLS_FRAMED_SERVER,
      FIXTURE_PATHS.cert,
      FIXTURE_PATHS.key,
    );
    const port = Number(await peer.readLine());
    await using socket = await connect({
      hostname: "localhost",
      port,
      tls: { caCerts: [CA_CERT] },
      timeout: 5000,
    });
    assertEquals(socket.transport, "tls");
    assertEquals(socket.remoteAddr, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port,
    });
    for (const word of ["hello", "tls", "x".repeat(100_000)]) {
      await socket.sendFrame(utf8(word));
      assertEquals(text((await socket.recvFrame())!), word.toUpperCase());
    }
    if (cut) {
      await socket.sendFrame(utf8("cut"));
      await frameError(socket.recvFrame(), "INCOMPLETE_FRAME");
    } else {
      await socket.closeWrite();
      assertEquals(await socket.recvFrame(), null);
    }
    assertEquals(await peer.readLine(), "echoed 3");
  }
});

Deno.test("tls: a Python client (create_default_context(cafile=...)) to serve({ tls })", async () => {
  const lines = delimited();
  const server = serve(
    { port: 0, tls: { cert: CERT, key: KEY }, framing: lines },
    async (socket) => {
      for await (const line of socket.frames()) {
        await socket.sendFrame(utf8(text(line).toUpperCase()));
      }
    },
  );
  try {
    const output = await runPython(
      `
import socket, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("localhost", int(sys.argv[2]))) as sock:
    with context.wrap_socket(sock, server_hostname="localhost") as tls:
        print(tls.version())
        tls.sendall(b"hello\\nworld\\n")
        data = b""
        while data.count(b"\\n") < 2:
            data += tls.recv(1024)
        print(data.decode().strip().replace("\\n", " "))
`,
      FIXTURE_PATHS.ca,
      String(server.addr.port),
    ).finish();
    assertEquals(output.code, 0, output.stderr);
    assertEquals(output.stdout, "TLSv1.3\nHELLO WORLD\n");
  } finally {
    await server.shutdown();
  }
});

// --- Certificates ------------------------------------------------------------

Deno.test("tls: an untrusted certificate fails connect with ECERT; tryConnect gives it as a value", async () => {
  await using server = listen({
    port: 0,
    tls: { cert: UNTRUSTED_CERT, key: UNTRUSTED_KEY },
  });
  const accepting = server.accept(); // Never resolves: no client gets through.
  const error = await socketError(
    connect({ port: server.addr.port, tls: { caCerts: [CA_CERT] } }),
    "ECERT",
  );
  assertStringIncludes(error.message, "certificate was rejected");
  const result = await tryConnect({
    hostname: "localhost",
    port: server.addr.port,
    tls: true,
  });
  assert(!result.ok);
  assertEquals(result.error.code, "ECERT");
  server.close();
  await socketError(accepting, "ECLOSED");
});

Deno.test("tls: serve: clients failing their handshake are a quiet end; a silent one holds up neither others nor shutdown()", async () => {
  const errors: unknown[] = [];
  let served = 0;
  const server = serve({
    port: 0,
    tls: { cert: CERT, key: KEY },
    onError: (error) => errors.push(error),
  }, async (socket) => {
    served++;
    await socket.send(await socket.recvExactly(2));
  });
  const port = server.addr.port;
  // A silent client: its handshake never starts.
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  // Clients that fail: no CA, plaintext, gone at once.
  for (let i = 0; i < 5; i++) {
    await socketError(
      connect({ hostname: "localhost", port, tls: true }),
      "ECERT",
    );
  }
  const plain = await Deno.connect({ hostname: "127.0.0.1", port });
  await plain.write(utf8("HELO plaintext\r\n"));
  (await Deno.connect({ hostname: "127.0.0.1", port })).close();
  // A good client is served meanwhile.
  {
    await using client = await within(
      connect({ port, tls: { caCerts: [CA_CERT], serverName: "localhost" } }),
      3000,
      "a good client while a silent one waits",
    );
    await client.send("ok");
    assertEquals(text(await client.recvExactly(2)), "ok");
  }
  // shutdown() does not wait for the silent client's handshake.
  await within(server.shutdown(), 3000, "shutdown with a handshake pending");
  assertEquals(served, 1);
  assertEquals(errors, []);
  plain.close();
  silent.close();
});

Deno.test("tls: handshakeTimeout drops a client that does not complete its handshake", async () => {
  await using server = listen({
    port: 0,
    tls: { cert: CERT, key: KEY },
    handshakeTimeout: 50,
  });
  const silent = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  const accepting = server.accept();
  await delay(150); // The silent client's handshake has timed out by now.
  await using client = await connect({
    port: server.addr.port,
    tls: { caCerts: [CA_CERT] },
  });
  await using peer = await within(accepting, 2000, "the good client");
  await client.send("!");
  assertEquals(text(await peer.recvExactly(1)), "!");
  silent.close();
});

Deno.test("tls: listen with a certificate that is not PEM is ETLS; with tls but a path is a TypeError", () => {
  let error: unknown;
  try {
    listen({ port: 0, tls: { cert: "not a certificate", key: KEY } });
  } catch (e) {
    error = e;
  }
  assertInstanceOf(error, SocketError);
  assertEquals(error.code, "ETLS");
  error = undefined;
  try {
    // Only a union of option types lets this through the compiler.
    listen(
      { path: "/tmp/x.sock", tls: { cert: CERT, key: KEY } } as Parameters<
        typeof listen
      >[0],
    );
  } catch (e) {
    error = e;
  }
  assertInstanceOf(error, TypeError);
});

Deno.test("tls: a connect whose handshake the server never answers times out; an abort cancels it", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const first = listener.accept();
  await socketError(
    connect({ port: listener.addr.port, tls: true, timeout: 50 }),
    "ETIMEDOUT",
  );
  const accepted = [await first, listener.accept()];
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("stop")), 30);
  const error = await socketError(
    connect({ port: listener.addr.port, tls: true, signal: controller.signal }),
    "ECANCELED",
  );
  assertEquals((error.cause as Error).message, "stop");
  for (const conn of await Promise.all(accepted)) conn.close();
});

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
