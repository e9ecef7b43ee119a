// Peers that hold on to a server's resources: clients that connect and send
// nothing (never finishing a TLS handshake), that never read, that trickle
// a frame byte by byte, or that corrupt their TLS records. Each must cost
// the server a bounded number of descriptors, for a bounded time, and end
// its handler quietly.

import { connect, serve, SocketError, StreamSocket } from "../../mod.ts";
import { delimited, lengthPrefixed } from "../../framing.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { delay, rejection, within } from "../_helpers/async.ts";
import { text, utf8 } from "../_helpers/bytes.ts";
import { type PythonPeer, runPython } from "../_helpers/python.ts";
import { CA_CERT, CERT, FIXTURE_PATHS, KEY } from "../_helpers/transports.ts";

/**
 * The open socket descriptors of process `pid` (Linux), read by `ls`: Deno
 * wants --allow-all to read /proc itself.
 */
export async function descriptors(pid: number = Deno.pid): Promise<number> {
  // Sockets only: the pipes of this very listing (and of other children)
  // come and go with the runtime's timing.
  const { stdout, code } = await new Deno.Command("ls", {
    args: ["-l", `/proc/${pid}/fd`],
    stdin: "null",
    stderr: "null",
  }).output();
  // Status 1: a descriptor closed between ls's listing and its lstat (a
  // minor problem to ls); the rest of the listing stands.
  assert(code <= 1 && stdout.length > 0, `cannot list /proc/${pid}/fd`);
  return new TextDecoder().decode(stdout).split("\n")
    .filter((line) => line.includes("socket:[")).length;
}

/**
 * A Python process that, told "go" on its stdin, opens `n` connections to
 * `port` that never send and never read. It prints "ready" once all are
 * connected; each line "close K" closes K of them and prints "closed".
 */
export const SILENT_CROWD = `
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
sys.stdin.readline()
crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
print("ready")
for line in sys.stdin:
    k = int(line.split()[1])
    for s in crowd[:k]:
        s.close()
    crowd = crowd[k:]
    print("closed")
`;

/** Starts a silent crowd (see SILENT_CROWD); `go()` makes it connect. */
function silentCrowd(
  port: number,
  n: number,
): PythonPeer & { go(): Promise<void> } {
  const peer = runPython(SILENT_CROWD, String(port), String(n), {
    stdin: "piped",
  });
  return Object.assign(peer, {
    async go() {
      await peer.write("go\n");
      assertEquals(await peer.readLine(), "ready");
    },
  });
}

async function closeSome(crowd: PythonPeer, k: number): Promise<void> {
  await crowd.write(`close ${k}\n`);
  assertEquals(await crowd.readLine(), "closed");
}

/** A Python client that connects, sends 16 MiB it never reads back, and waits. */
const NEVER_READS = `
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
print("connected")
sys.stdin.read()
`;

Deno.test("tls: 60 clients that send nothing hold at most maxConnections descriptors; a handshake past its deadline is dropped; room returns as they leave", async () => {
  const errors: unknown[] = [];
  const server = serve({
    port: 0,
    tls: { cert: CERT, key: KEY },
    maxConnections: 5,
    handshakeTimeout: 500,
    onError: (error) => errors.push(error),
  }, async (socket) => {
    for await (const frame of socket.frames()) await socket.sendFrame(frame);
  });
  await using crowd = silentCrowd(server.addr.port, 60);
  const before = await descriptors();
  try {
    await crowd.go();
    await delay(300);
    // The 5 connections in their handshake; the other 55 wait in the
    // kernel's backlog, costing this process nothing.
    const during = (await descriptors()) - before;
    assert(during <= 6, `the server holds ${during} descriptors`);
    await delay(600); // past handshakeTimeout: still bounded
    const after = (await descriptors()) - before;
    assert(after <= 6, `past the deadline the server holds ${after}`);
    // A client after them all: served once every silent one has left.
    const served = (async () => {
      await using client = await connect({
        port: server.addr.port,
        tls: { caCerts: [CA_CERT], serverName: "localhost" },
      });
      await client.sendFrame(utf8("real"));
      return text((await client.recvFrame())!);
    })();
    await closeSome(crowd, 60);
    assertEquals(await within(served, 5000, "the real client"), "real");
    // The runtime closes a TLS connection in a task of its own, a moment
    // after the close (and the queued ones are drained one by one).
    let left = Infinity;
    for (let i = 0; i < 60 && left > 1; i++) {
      left = (await descriptors()) - before;
      if (left > 1) await delay(50);
    }
    assert(left <= 1, `after they left the server holds ${left}`);
  } finally {
    await crowd.closeStdin();
    await within(server.shutdown(), 5000, "shutdown");
  }
  assertEquals(errors, []);
});

Deno.test("tls: a handshake that never starts keeps its slot until the client leaves (the runtime keeps its descriptor), then frees it", async () => {
  const server = serve({
    port: 0,
    tls: { cert: CERT, key: KEY },
    maxConnections: 1,
    handshakeTimeout: 200,
    onError: () => {},
  }, async (socket) => {
    await socket.sendFrame(utf8("hello"));
  });
  await using crowd = silentCrowd(server.addr.port, 1);
  try {
    await crowd.go();
    const client = connect({
      port: server.addr.port,
      tls: { caCerts: [CA_CERT], serverName: "localhost" },
      timeout: 5000,
    });
    const hello = client.then(async (socket) => {
      await using _ = socket;
      return text((await socket.recvFrame())!);
    });
    await delay(600);
    // Three deadlines later the silent one still holds the only slot.
    assertEquals(
      await Promise.race([hello, delay(0).then(() => "waiting")]),
      "waiting",
    );
    await closeSome(crowd, 1);
    assertEquals(await within(hello, 5000, "the second client"), "hello");
  } finally {
    await crowd.closeStdin();
    await within(server.shutdown(), 5000, "shutdown");
  }
});

Deno.test("serve: a handler's return frees its slot within the close linger while the peer never reads", async () => {
  const errors: unknown[] = [];
  let returned = 0;
  const server = serve({
    port: 0,
    maxConnections: 1,
    onError: (error) => errors.push(error),
  }, (socket) => {
    // More than the kernel's buffers hold: the peer never reads it.
    socket.send(new Uint8Array(32 * 1024 * 1024)).catch(() => {});
    returned ||= Date.now();
  });
  await using peer = runPython(NEVER_READS, String(server.addr.port), {
    stdin: "piped",
  });
  try {
    assertEquals(await peer.readLine(), "connected");
    while (returned === 0) await delay(50);
    // The slot comes back within the linger (10 s), not never.
    let served = 0;
    while (served === 0) {
      const attempt = await connect({ port: server.addr.port });
      const reply = await attempt.recvExactly(1, { timeout: 200 }).catch(
        () => null,
      );
      attempt.destroy();
      if (reply !== null) served = Date.now();
      else await delay(100);
      assert(Date.now() - returned < 13_000, "no room 13 s after the return");
    }
    const waited = served - returned;
    assert(waited > 8_000, `the slot came back after only ${waited} ms`);
    assert(waited < 12_000, `the slot came back after ${waited} ms`);
  } finally {
    await peer.closeStdin();
    await within(server.shutdown(), 15_000, "shutdown");
  }
  assertEquals(errors, []);
});

Deno.test("close(): a send waiting for room settles at once; one of uncopied bytes, and the connection, within the linger while the peer never reads", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using peer = runPython(NEVER_READS, String(listener.addr.port), {
    stdin: "piped",
  });
  const conn = await listener.accept();
  assertEquals(await peer.readLine(), "connected");
  // Our end of the connection, as a socket that writes to a peer that never reads.
  const socket = new StreamSocket(conn, { highWaterMark: 64 * 1024 });
  const big = new Uint8Array(16 * 1024 * 1024); // over the high-water mark: uncopied
  const uncopied = socket.send(big);
  // Copied: the first fits under the high-water mark, the second waits for room.
  await socket.send(new Uint8Array(40 * 1024));
  const copied = socket.send(new Uint8Array(40 * 1024));
  await delay(300);
  const started = Date.now();
  socket.close();
  const error = await within(
    rejection(copied),
    100,
    "the send waiting for room",
  );
  assertEquals((error as SocketError).code, "ECLOSED");
  // The uncopied bytes are still being written: their send settles when
  // they are, or at the end of the linger.
  const late = await within(rejection(uncopied), 12_000, "the uncopied send");
  assertEquals((late as SocketError).code, "ECLOSED");
  await within(socket[Symbol.asyncDispose](), 1000, "the release");
  const took = Date.now() - started;
  assert(took > 9_000 && took < 11_500, `released after ${took} ms`);
  await peer.closeStdin();
});

const TRICKLE = `
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"first line\\n")
for byte in b"a line that never ends":
    try:
        s.sendall(bytes([byte]))
    except OSError:
        break
    time.sleep(0.05)
print("done")
`;

Deno.test("frameTimeout: a peer trickling a frame inside idleTimeout is cut off; the served handler ends quietly", async () => {
  const errors: unknown[] = [];
  const seen: string[] = [];
  let firstAt = 0;
  let ended: unknown = "running";
  const server = serve({
    port: 0,
    framing: delimited(),
    idleTimeout: 1000,
    frameTimeout: 300,
    onError: (error) => errors.push(error),
  }, async (socket) => {
    try {
      for await (const line of socket.frames()) {
        seen.push(text(line));
        firstAt = Date.now();
      }
      ended = null;
    } catch (error) {
      ended = (error as SocketError).code;
      throw error;
    }
  });
  try {
    await using peer = runPython(TRICKLE, String(server.addr.port));
    while (firstAt === 0) await delay(10);
    while (ended === "running") {
      await delay(10);
      assert(Date.now() - firstAt < 3000, "still connected after 3 s");
    }
    // The next line's first byte came right after the first line; the
    // whole trickle would take over 1 s.
    const took = Date.now() - firstAt;
    assert(took >= 250 && took < 900, `cut off after ${took} ms`);
    assertEquals(ended, "ETIMEDOUT");
    assertEquals(seen, ["first line"]);
    assertEquals((await peer.finish()).code, 0);
  } finally {
    await within(server.shutdown(), 5000, "shutdown");
  }
  assertEquals(errors, []);
});

const STEADY = `
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
frame = bytes(range(256)) * 4096  # 1 MiB
for _ in range(6):
    data = struct.pack("!I", len(frame)) + frame
    for i in range(0, len(data), 64 * 1024):
        s.sendall(data[i:i + 64 * 1024])
        time.sleep(0.012)  # ~5 MiB/s: a frame takes ~0.2 s
print(s.recv(16).decode())
`;

Deno.test("frameTimeout: a peer sending large frames at a steady rate is not cut off, though the whole takes longer", async () => {
  const errors: unknown[] = [];
  const server = serve({
    port: 0,
    framing: lengthPrefixed(),
    frameTimeout: 700,
    onError: (error) => errors.push(error),
  }, async (socket) => {
    let frames = 0;
    for await (const frame of socket.frames()) {
      assertEquals(frame.length, 1024 * 1024);
      if (++frames === 6) await socket.send(`got ${frames}`);
    }
  });
  try {
    const started = Date.now();
    await using peer = runPython(STEADY, String(server.addr.port));
    assertEquals(await peer.readLine(), "got 6");
    const took = Date.now() - started;
    assert(took > 700, `all six frames took only ${took} ms`);
  } finally {
    await within(server.shutdown(), 5000, "shutdown");
  }
  assertEquals(errors, []);
});

Deno.test("frameTimeout: a connect option and a property; the receive rejects with ETIMEDOUT and the socket is closed", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = await connect({
    port: listener.addr.port,
    framing: delimited(),
    frameTimeout: 200,
  });
  assertEquals(client.frameTimeout, 200);
  using conn = await listener.accept();
  await conn.write(utf8("whole\npart"));
  assertEquals(text((await client.recvFrame())!), "whole");
  const started = Date.now();
  const error = await rejection(client.recvFrame());
  assert(
    error instanceof SocketError && error.code === "ETIMEDOUT",
    `${error}`,
  );
  const took = Date.now() - started;
  assert(took >= 190 && took < 1000, `timed out after ${took} ms`);
  assertEquals(
    ((await rejection(client.recv())) as SocketError).code,
    "ETIMEDOUT",
  );
  client.frameTimeout = undefined;
});

Deno.test("frameTimeout: set while a frame receive already waits, it applies to the frame that receive waits for", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = await connect({
    port: listener.addr.port,
    framing: delimited(),
  });
  using conn = await listener.accept();
  // No deadline of any kind when it was called.
  const pending = client.recvFrame();
  client.frameTimeout = 100;
  await conn.write(utf8("never a whole li"));
  const error = await within(rejection(pending), 2000, "the receive");
  assert(
    error instanceof SocketError && error.code === "ETIMEDOUT",
    `${error}`,
  );
});

const CORRUPT = `
import os, socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s = ctx.wrap_socket(raw, server_hostname="localhost")
s.sendall(b"\\x00\\x00\\x00\\x02hi")
s.recv(6)
# A record with a bad MAC, written under the TLS layer.
os.write(s.fileno(), b"\\x17\\x03\\x03\\x00\\x20" + os.urandom(32))
try:
    s.recv(1)
except OSError:
    pass
print("done")
`;

Deno.test("tls: a corrupt record after the handshake is ETLS and ends a served handler quietly", async () => {
  const errors: unknown[] = [];
  let ended: unknown = "running";
  const server = serve({
    port: 0,
    tls: { cert: CERT, key: KEY },
    onError: (error) => errors.push(error),
  }, async (socket) => {
    try {
      for await (const frame of socket.frames()) await socket.sendFrame(frame);
      ended = null;
    } catch (error) {
      ended = error;
      throw error;
    }
  });
  try {
    await using peer = runPython(
      CORRUPT,
      String(server.addr.port),
      FIXTURE_PATHS.ca,
    );
    assertEquals(await peer.readLine(), "done");
    while (ended === "running") await delay(10);
    assert(ended instanceof SocketError, `ended with ${ended}`);
    assertEquals(ended.code, "ETLS");
    assert(/corrupt/.test(ended.message), ended.message);
  } finally {
    await within(server.shutdown(), 5000, "shutdown");
  }
  assertEquals(errors, []);
});

Deno.test("tls under a lowered descriptor limit (prlimit --nofile=64): silent clients past the limit never make the server run out; real clients are served while there is room, and again once they leave", async () => {
  const LIMIT = 64;
  const server = new Deno.Command("prlimit", {
    args: [
      `--nofile=${LIMIT}:${LIMIT}`,
      Deno.execPath(),
      "run",
      "--no-check",
      "--allow-net=127.0.0.1",
      `--allow-read=${new URL("../fixtures/", import.meta.url).pathname}`,
      new URL("../_helpers/tls_server_program.ts", import.meta.url).pathname,
      "30", // maxConnections: what the server holds at most, kept under the limit
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(server.stderr).text();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await lines.read()).value!.trim());
  const serverFds = () => descriptors(server.pid);
  const tls = { caCerts: [CA_CERT], serverName: "localhost" };
  const roundTrip = async (word: string) => {
    await using client = await connect({ port, tls, timeout: 5000 });
    await client.sendFrame(utf8(word));
    return text((await client.recvFrame({ timeout: 5000 }))!);
  };
  await using near = silentCrowd(port, 25);
  await using past = silentCrowd(port, 100);
  try {
    const idle = await serverFds();
    // 25 silent clients: the server nears its limit (idle + 25 of 64)...
    await near.go();
    await delay(500);
    const nearFds = await serverFds();
    assert(nearFds >= idle + 25, `${nearFds} descriptors, ${idle} idle`);
    // ...and real clients are still served, one after another.
    for (let i = 0; i < 5; i++) assertEquals(await roundTrip(`r${i}`), `r${i}`);
    // 100 more, 125 in all, twice the limit: the server stops at 30.
    await past.go();
    await delay(1000);
    // 30, and a few the runtime is still closing (the real clients' ends).
    const pastFds = await serverFds();
    assert(pastFds <= idle + 34, `${pastFds} descriptors, ${idle} idle`);
    assert(pastFds < LIMIT, `${pastFds} descriptors of ${LIMIT}`);
    // A real client now waits in the backlog, and is served once they leave.
    const queued = roundTrip("after");
    await closeSome(near, 25);
    await closeSome(past, 100);
    assertEquals(await within(queued, 10_000, "the queued client"), "after");
    assertEquals(await roundTrip("again"), "again");
  } finally {
    await near.closeStdin();
    await past.closeStdin();
    await server.stdin.close();
  }
  const { code } = await within(server.status, 10_000, "the server's exit");
  const errors = await stderr;
  assertEquals(code, 0, errors);
  assert(!/EMFILE|Too many open files|panic/i.test(errors), errors);
  await lines.cancel();
});
