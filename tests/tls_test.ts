// The socket over TLS (connect/listen/serve with `tls`) and STARTTLS
// (socket.startTls), against Python peers written the way the tutorials
// write them (ssl.create_default_context, wrap_socket) and against this
// module's own server. The framed echo runs over every transport.

import {
  connect,
  delimited,
  type Framing,
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
import { delay, rejection, within } from "./_helpers/async.ts";
import { MiB, text, utf8 } from "./_helpers/bytes.ts";
import { runPython } from "./_helpers/python.ts";
import { Rng } from "./_helpers/random.ts";
import {
  frameError,
  socketError,
  socketPair,
  type Transport,
  TRANSPORTS,
} from "./_helpers/sockets.ts";
import {
  CA_CERT,
  CERT,
  FIXTURE_PATHS,
  KEY,
  socketPath,
  UNTRUSTED_CERT,
  UNTRUSTED_KEY,
} from "./_helpers/transports.ts";

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
