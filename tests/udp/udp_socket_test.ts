// Tests for udp.ts: real UDP sockets on loopback, ports picked by the OS.
//
// Run with --unstable-net (deno.json sets it) and
// --allow-net=127.0.0.1,[::1],localhost --allow-run --allow-read --allow-env.
// Every receive that could hang has a timeout, so a failure throws instead.

import {
  bindUdp,
  type Datagram,
  MAX_DATAGRAM_BYTES,
  SocketError,
  UdpSocket,
} from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { text } from "../_helpers/bytes.ts";
import { pythonOutput } from "../_helpers/python.ts";
import { rejectsWithCode, runCase } from "../_helpers/udp_cases.ts";

/** Long enough for loopback on a busy machine; short enough to fail fast. */
const WAIT = 5000;

function bound(): UdpSocket {
  const socket = bindUdp();
  socket.timeout = WAIT;
  return socket;
}

function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("round trip: the receiver learns the sender's address and replies to it", async () => {
  using server = bound();
  using client = bound();
  assertEquals(await client.sendTo("ping", server.addr), 4);
  const request = await server.recvFrom();
  assertEquals(text(request.data), "ping");
  assertEquals(request.truncated, false);
  assertEquals(request.addr.hostname, "127.0.0.1");
  assertEquals(request.addr.port, client.addr.port);
  assertEquals(await server.sendTo("pong", request.addr), 4);
  const reply = await client.recvFrom();
  assertEquals(text(reply.data), "pong");
  assertEquals(reply.addr.port, server.addr.port);
});

Deno.test("sendTo: strings are sent as UTF-8; bytes as they are", async () => {
  using a = bound();
  using b = bound();
  assertEquals(await a.sendTo("héllo ✓", b.addr), 10);
  assertEquals(text((await b.recvFrom()).data), "héllo ✓");
  const bytes = new Uint8Array([0, 255, 1, 254]);
  assertEquals(await a.sendTo(bytes.subarray(1, 3), b.addr), 2);
  assertEquals([...(await b.recvFrom()).data], [255, 1]);
});

Deno.test("sendTo: a host name is resolved by the OS", async () => {
  using a = bound();
  using b = bound();
  await a.sendTo("by name", { hostname: "localhost", port: b.addr.port });
  assertEquals(text((await b.recvFrom()).data), "by name");
});

Deno.test("an empty datagram is a datagram: data.length === 0", async () => {
  using a = bound();
  using b = bound();
  assertEquals(await a.sendTo(new Uint8Array(0), b.addr), 0);
  assertEquals(await a.sendTo("", b.addr), 0);
  await a.sendTo("after", b.addr);
  for (const expected of ["", "", "after"]) {
    const datagram = await b.recvFrom();
    assertEquals(text(datagram.data), expected);
    assertEquals(datagram.truncated, false);
    assertEquals(datagram.addr.port, a.addr.port);
  }
});

Deno.test("returned data is the caller's: later datagrams never overwrite it", async () => {
  using a = bound();
  using b = bound();
  await a.sendTo("first", b.addr);
  await a.sendTo("second", b.addr);
  const first = await b.recvFrom();
  const second = await b.recvFrom();
  assertEquals(text(first.data), "first");
  assertEquals(text(second.data), "second");
  // A copy of exactly the datagram, not a view into a 64 KiB buffer.
  assertEquals(first.data.buffer.byteLength, 5);
});

// ---------------------------------------------------------------------------
// Sizes

Deno.test("truncation: a 6-byte datagram with maxBytes 3 returns 3 bytes and truncated: true", async () => {
  using a = bound();
  using b = bound();
  await a.sendTo("abcdef", b.addr);
  const cut = await b.recvFrom({ maxBytes: 3 });
  assertEquals(text(cut.data), "abc");
  assertEquals(cut.truncated, true);
  assertEquals(cut.data.buffer.byteLength, 3);

  await a.sendTo("abcdef", b.addr);
  const whole = await b.recvFrom();
  assertEquals(text(whole.data), "abcdef");
  assertEquals(whole.truncated, false);
});

Deno.test("truncation: boundaries (maxBytes equal to the length, one less, zero)", async () => {
  using a = bound();
  using b = bound();
  const cases: [
    payload: string,
    maxBytes: number,
    data: string,
    truncated: boolean,
  ][] = [
    ["abcdef", 6, "abcdef", false],
    ["abcdef", 5, "abcde", true],
    ["abcdef", 0, "", true],
    ["", 0, "", false],
    ["abc", 70000, "abc", false],
  ];
  for (const [payload, maxBytes, data, truncated] of cases) {
    await a.sendTo(payload, b.addr);
    const datagram = await b.recvFrom({ maxBytes });
    assertEquals(
      [text(datagram.data), datagram.truncated],
      [data, truncated],
      `"${payload}" with maxBytes ${maxBytes}`,
    );
  }
});

Deno.test("truncation: recv() returns the cut payload too", async () => {
  using a = bound();
  using b = bound();
  await a.sendTo("abcdef", b.addr);
  assertEquals(text(await b.recv({ maxBytes: 2 })), "ab");
});

Deno.test("65507 bytes arrive whole; 65508 are EMSGSIZE before anything is sent", async () => {
  using a = bound();
  using b = bound();
  const largest = new Uint8Array(MAX_DATAGRAM_BYTES);
  for (let i = 0; i < largest.length; i++) largest[i] = i % 251;
  assertEquals(MAX_DATAGRAM_BYTES, 65507);
  assertEquals(await a.sendTo(largest, b.addr), 65507);
  const received = await b.recvFrom();
  assertEquals(received.truncated, false);
  assertEquals(received.data.length, 65507);
  assertEquals(received.data, largest);

  const error = await rejectsWithCode(
    () => a.sendTo(new Uint8Array(65508), b.addr),
    "EMSGSIZE",
  );
  assertStringIncludes(error.message, "65508");
  assertStringIncludes(error.message, "65507");
  await rejectsWithCode(() => a.sendTo("x".repeat(70000), b.addr), "EMSGSIZE");
  // Nothing was sent: the next datagram to arrive is the marker.
  await a.sendTo("marker", b.addr);
  assertEquals(text((await b.recvFrom()).data), "marker");
});

// ---------------------------------------------------------------------------
// Iteration

Deno.test("for await: datagrams from several senders; break does not close", async () => {
  using server = bound();
  const senders = [bound(), bound(), bound()];
  try {
    for (const [i, sender] of senders.entries()) {
      for (let j = 0; j < 3; j++) await sender.sendTo(`${i}:${j}`, server.addr);
    }
    const bySender = new Map<number, string[]>();
    let count = 0;
    for await (const { data, addr, truncated } of server) {
      assertEquals(truncated, false);
      bySender.set(addr.port, [...(bySender.get(addr.port) ?? []), text(data)]);
      if (++count === 9) break;
    }
    for (const [i, sender] of senders.entries()) {
      // UDP does not promise order; compare the sets.
      assertEquals(
        bySender.get(sender.addr.port)?.sort(),
        [`${i}:0`, `${i}:1`, `${i}:2`],
      );
    }
    assertEquals(server.closed, false);
    await senders[0].sendTo("still open", server.addr);
    assertEquals(text((await server.recvFrom()).data), "still open");
  } finally {
    for (const sender of senders) sender.close();
  }
});

Deno.test("for await: closing the socket ends the loop cleanly", async () => {
  const server = bound();
  using client = bound();
  const seen: string[] = [];
  const loop = (async () => {
    for await (const { data } of server) seen.push(text(data));
  })();
  await client.sendTo("one", server.addr);
  await client.sendTo("two", server.addr);
  for (let i = 0; i < 100 && seen.length < 2; i++) await tick(5);
  server.close(); // while the loop waits for a third datagram
  await loop;
  assertEquals(seen, ["one", "two"]);
});

Deno.test("for await: closing from inside the loop ends it; a new loop on a closed socket yields nothing", async () => {
  const server = bound();
  using client = bound();
  await client.sendTo("only", server.addr);
  await client.sendTo("dropped at close", server.addr);
  const seen: string[] = [];
  for await (const { data } of server) {
    seen.push(text(data));
    server.close();
  }
  assertEquals(seen, ["only"]);
  for await (const _ of server) throw new Error("unreachable");
  const iterator = server[Symbol.asyncIterator]();
  assertEquals(await iterator.next(), { value: undefined, done: true });
});

Deno.test("for await: the socket's timeout applies to each step", async () => {
  using server = bindUdp();
  server.timeout = 20;
  await rejectsWithCode(async () => {
    for await (const _ of server) throw new Error("no datagram was sent");
  }, "ETIMEDOUT");
});

Deno.test("iterator: next() after return() is done", async () => {
  using server = bound();
  const iterator = server[Symbol.asyncIterator]();
  assertEquals(iterator[Symbol.asyncIterator](), iterator);
  assertEquals(await iterator.return!(), { value: undefined, done: true });
  assertEquals(await iterator.next(), { value: undefined, done: true });
});

Deno.test("concurrent recvFrom calls are served in call order, one datagram each", async () => {
  using a = bound();
  using b = bound();
  const first = b.recvFrom();
  const second = b.recvFrom({ maxBytes: 1 });
  await a.sendTo("alpha", b.addr);
  await a.sendTo("beta", b.addr);
  assertEquals(text((await first).data), "alpha");
  const cut = await second;
  assertEquals([text(cut.data), cut.truncated], ["b", true]);
});

// ---------------------------------------------------------------------------
// Timeouts and cancellation: nothing is lost

Deno.test("timeout: ETIMEDOUT, and a datagram sent afterwards is received by the next recvFrom", async () => {
  using a = bound();
  using b = bindUdp();
  assertEquals(b.timeout, undefined);
  b.timeout = 30;
  const error = await rejectsWithCode(() => b.recvFrom(), "ETIMEDOUT");
  assertStringIncludes(error.message, "30 ms");
  // The receive that timed out is still pending in the runtime; a naive
  // implementation would let it swallow the next datagram.
  await a.sendTo("late", b.addr);
  await tick(20); // let the pending receive take it
  b.timeout = WAIT;
  const datagram = await b.recvFrom();
  assertEquals(text(datagram.data), "late");
  assertEquals(datagram.addr.port, a.addr.port);
});

Deno.test("timeout: several timeouts in a row lose nothing", async () => {
  using a = bound();
  using b = bindUdp();
  for (let i = 0; i < 3; i++) {
    await rejectsWithCode(() => b.recvFrom({ timeout: 10 }), "ETIMEDOUT");
  }
  for (const word of ["x", "y", "z"]) await a.sendTo(word, b.addr);
  const got: string[] = [];
  for (let i = 0; i < 3; i++) {
    got.push(text((await b.recvFrom({ timeout: WAIT })).data));
  }
  assertEquals(got.sort(), ["x", "y", "z"]);
});

Deno.test("timeout: a per-call timeout overrides the socket's; 0 does not wait", async () => {
  using b = bindUdp();
  b.timeout = 60_000;
  await rejectsWithCode(() => b.recvFrom({ timeout: 10 }), "ETIMEDOUT");
  await rejectsWithCode(() => b.recvFrom({ timeout: 0 }), "ETIMEDOUT");
  await rejectsWithCode(() => b.recv({ timeout: 5 }), "ETIMEDOUT");
});

Deno.test("timeout: a datagram that arrives in time clears the timer", async () => {
  using a = bound();
  using b = bindUdp();
  b.timeout = WAIT;
  const pending = b.recvFrom();
  await a.sendTo("in time", b.addr);
  assertEquals(text((await pending).data), "in time");
  // The sanitizers fail the test if the 5 s timer were left running.
});

Deno.test("abort: ECANCELED with the signal's reason as cause; nothing is lost", async () => {
  using a = bound();
  using b = bound();
  const controller = new AbortController();
  const pending = b.recvFrom({ signal: controller.signal });
  await tick();
  const reason = new Error("stop");
  controller.abort(reason);
  const error = await rejectsWithCode(() => pending, "ECANCELED");
  assertEquals(error.cause, reason);
  await a.sendTo("after abort", b.addr);
  assertEquals(text((await b.recvFrom()).data), "after abort");
});

Deno.test("abort: an already-aborted signal rejects at once, even with a datagram waiting", async () => {
  using a = bound();
  using b = bound();
  await a.sendTo("kept", b.addr);
  const signal = AbortSignal.abort("gone");
  const error = await rejectsWithCode(
    () => b.recvFrom({ signal }),
    "ECANCELED",
  );
  assertEquals(error.cause, "gone");
  assertEquals(text((await b.recvFrom()).data), "kept");
});

Deno.test("abort: a signal that never fires is released when the datagram arrives", async () => {
  using a = bound();
  using b = bound();
  const controller = new AbortController();
  const pending = b.recvFrom({ signal: controller.signal });
  await a.sendTo("done", b.addr);
  assertEquals(text((await pending).data), "done");
  controller.abort(); // after the fact: nothing happens
  await a.sendTo("next", b.addr);
  assertEquals(text((await b.recvFrom()).data), "next");
});

// ---------------------------------------------------------------------------
// Connected mode

Deno.test("connect: send() goes to the peer and recv() ignores a third party", async () => {
  using server = bound();
  using third = bound();
  using client = bound();
  client.connect(server.addr);
  assertEquals(client.remoteAddr, {
    transport: "udp",
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  assertEquals(await client.send("hello"), 5);
  const request = await server.recvFrom();
  assertEquals(text(request.data), "hello");
  assertEquals(request.addr.port, client.addr.port);

  await third.sendTo("intruder", client.addr);
  await server.sendTo("reply", client.addr);
  assertEquals(text(await client.recv()), "reply");

  // recvFrom and iteration filter too.
  await third.sendTo("intruder 2", client.addr);
  await server.sendTo("reply 2", client.addr);
  const datagram = await client.recvFrom();
  assertEquals(text(datagram.data), "reply 2");
  assertEquals(datagram.addr.port, server.addr.port);
  await third.sendTo("intruder 3", client.addr);
  await server.sendTo("reply 3", client.addr);
  for await (const { data } of client) {
    assertEquals(text(data), "reply 3");
    break;
  }
});

Deno.test("connect: datagrams already waiting from others are discarded too", async () => {
  using server = bound();
  using third = bound();
  using client = bound();
  await third.sendTo("early intruder", client.addr);
  await server.sendTo("from server", client.addr);
  client.connect(server.addr);
  assertEquals(text(await client.recv()), "from server");
});

Deno.test("connect: a datagram kept after a timeout is filtered when connected later", async () => {
  using third = bound();
  using server = bound();
  using client = bindUdp();
  await rejectsWithCode(() => client.recvFrom({ timeout: 10 }), "ETIMEDOUT");
  await third.sendTo("kept while unconnected", client.addr);
  await tick(20); // the pending receive takes it
  client.connect(server.addr);
  await server.sendTo("from server", client.addr);
  assertEquals(text(await client.recv({ timeout: WAIT })), "from server");
});

Deno.test("connect: the peer may be spelled localhost; disconnect() hears everyone again", async () => {
  using server = bound();
  using third = bound();
  using client = bound();
  client.connect({ hostname: "localhost", port: server.addr.port });
  await third.sendTo("ignored", client.addr);
  await server.sendTo("heard", client.addr);
  assertEquals(text(await client.recv()), "heard");
  await client.send("to localhost");
  assertEquals(text((await server.recvFrom()).data), "to localhost");

  client.disconnect();
  assertEquals(client.remoteAddr, undefined);
  await third.sendTo("now heard", client.addr);
  assertEquals(text(await client.recv()), "now heard");
});

Deno.test("connect: send() without a peer is EDESTADDRREQ; a name that is not an IP is a TypeError", async () => {
  using socket = bound();
  await rejectsWithCode(() => socket.send("nowhere"), "EDESTADDRREQ");
  const error = assertThrows(
    () => socket.connect({ hostname: "example.com", port: 53 }),
    TypeError,
  );
  assertStringIncludes(error.message, "example.com");
  assertThrows(
    () => socket.connect({ hostname: "127.0.0.1", port: 0 }),
    RangeError,
  );
  assertEquals(socket.remoteAddr, undefined);
});

// ---------------------------------------------------------------------------
// Closing

Deno.test("close: a pending recvFrom rejects with ECLOSED (closed in the same tick)", async () => {
  const socket = bindUdp();
  const pending = socket.recvFrom();
  socket.close();
  await rejectsWithCode(() => pending, "ECLOSED");
});

Deno.test("close: a pending recvFrom rejects with ECLOSED (closed while the receive is in the runtime)", async () => {
  const socket = bindUdp();
  const pending = socket.recvFrom();
  const step = socket[Symbol.asyncIterator]().next();
  await tick(10);
  socket.close();
  await rejectsWithCode(() => pending, "ECLOSED");
  assertEquals(await step, { value: undefined, done: true });
});

Deno.test("close: racing a datagram in flight ends with the datagram or ECLOSED, nothing else", async () => {
  using sender = bound();
  const outcomes = new Set<string>();
  for (let round = 0; round < 20; round++) {
    const socket = bindUdp();
    const pending = socket.recvFrom().then(
      (datagram: Datagram) => text(datagram.data),
      (error: unknown) => {
        assertInstanceOf(error, SocketError);
        assertEquals((error as SocketError).code, "ECLOSED");
        return "ECLOSED";
      },
    );
    await sender.sendTo("race", socket.addr);
    if (round % 4 === 1) await Promise.resolve();
    if (round % 4 === 2) await tick();
    if (round % 4 === 3) await tick(1);
    socket.close();
    const outcome = await pending;
    assert(outcome === "race" || outcome === "ECLOSED", outcome);
    outcomes.add(outcome);
  }
  assert(outcomes.size > 0);
});

Deno.test("close: idempotent; every later call is ECLOSED or done", async () => {
  using other = bound();
  const socket = bindUdp();
  assertEquals(socket.closed, false);
  socket.close();
  socket.close();
  socket[Symbol.dispose]();
  assertEquals(socket.closed, true);
  await rejectsWithCode(() => socket.recvFrom(), "ECLOSED");
  await rejectsWithCode(() => socket.recv(), "ECLOSED");
  await rejectsWithCode(() => socket.sendTo("x", other.addr), "ECLOSED");
  await rejectsWithCode(
    () => socket.joinMulticast("239.255.0.1", "127.0.0.1"),
    "ECLOSED",
  );
  const error = assertThrows(() => socket.connect(other.addr), SocketError);
  assertEquals(error.code, "ECLOSED");
  assertEquals(
    await socket[Symbol.asyncIterator]().next(),
    { value: undefined, done: true },
  );
});

Deno.test("close: a send racing close is ECLOSED or completes", async () => {
  using other = bound();
  const socket = bindUdp();
  const sending = socket.sendTo("racing", other.addr).then(
    (sent: number) => String(sent),
    (error: unknown) => (error as SocketError).code,
  );
  socket.close();
  const outcome = await sending;
  assert(outcome === "6" || outcome === "ECLOSED", outcome);
});

Deno.test("using: the socket is closed at the end of the block", async () => {
  let escaped: UdpSocket;
  {
    using socket = bindUdp();
    escaped = socket;
  }
  assertEquals(escaped.closed, true);
  await rejectsWithCode(() => escaped.recvFrom(), "ECLOSED");
});

Deno.test("sendTo: a destination without --allow-net is EPERM", async () => {
  const run = await runCase("sendTo-EPERM");
  assert(run.success, run.stderr);
  assertEquals(run.stdout, "ok sendTo-EPERM\n");
});

Deno.test("sendTo: an IPv6 destination from an IPv4 socket is EAFNOSUPPORT", async () => {
  using socket = bindUdp();
  const error = await rejectsWithCode(
    () => socket.sendTo("x", { hostname: "::1", port: 9 }),
    "EAFNOSUPPORT",
  );
  assertInstanceOf(error.cause, Error);
});

// ---------------------------------------------------------------------------
// Argument checks

Deno.test("arguments: bad values are TypeError or RangeError before any I/O", async () => {
  using socket = bound();
  const to = socket.addr;
  assertThrows(() => bindUdp({ port: 70000 }), RangeError);
  assertThrows(() => bindUdp({ port: -1 }), RangeError);
  assertThrows(() => bindUdp({ port: 1.5 }), RangeError);
  assertThrows(() => bindUdp({ hostname: "" }), TypeError);
  await assertRejects(() => socket.sendTo("x", { ...to, port: 0 }), RangeError);
  await assertRejects(
    () => socket.sendTo("x", { ...to, port: 65536 }),
    RangeError,
  );
  await assertRejects(
    () => socket.sendTo("x", { hostname: "", port: 9 }),
    TypeError,
  );
  await assertRejects(
    () => socket.sendTo(42 as unknown as string, to),
    TypeError,
  );
  await assertRejects(() => socket.recvFrom({ maxBytes: -1 }), RangeError);
  await assertRejects(() => socket.recvFrom({ maxBytes: 1.5 }), RangeError);
  await assertRejects(() => socket.recvFrom({ timeout: -1 }), RangeError);
  await assertRejects(() => socket.recvFrom({ timeout: NaN }), RangeError);
  assertThrows(() => (socket.timeout = -5), RangeError);
  assertEquals(socket.timeout, WAIT);
  socket.timeout = undefined;
  assertEquals(socket.timeout, undefined);
  assertThrows(
    () =>
      new UdpSocket(
        { addr: { transport: "tcp" } } as unknown as Deno.DatagramConn,
      ),
    TypeError,
  );
});

Deno.test("new UdpSocket(conn) wraps a conn made with Deno.listenDatagram", async () => {
  using socket = new UdpSocket(
    Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" }),
  );
  using peer = bound();
  await peer.sendTo("wrapped", socket.addr);
  assertEquals(
    text((await socket.recvFrom({ timeout: WAIT })).data),
    "wrapped",
  );
});

// ---------------------------------------------------------------------------
// IPv6 and multicast

Deno.test("IPv6 loopback: round trip, and connect() matches another spelling of ::1", async () => {
  // Needs IPv6 on loopback, like tcp_test.ts: it fails without, never skips.
  using server = bindUdp({ hostname: "::1" });
  server.timeout = WAIT;
  using client = bindUdp({ hostname: "::1" });
  client.timeout = WAIT;
  using third = bindUdp({ hostname: "::1" });
  await client.sendTo("v6", server.addr);
  const request = await server.recvFrom();
  assertEquals(text(request.data), "v6");
  assertEquals(request.addr.hostname, "::1");
  client.connect({ hostname: "0:0:0:0:0:0:0:1", port: server.addr.port });
  await third.sendTo("ignored", client.addr);
  await server.sendTo("reply", request.addr);
  assertEquals(text(await client.recv()), "reply");
});

// A client written the way Python tutorials write one.
const PYTHON_CLIENT = `
import socket, struct, sys

server_address = ("127.0.0.1", int(sys.argv[1]))
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.settimeout(5)

messages = [b"hello", b"", "h\\u00e9llo".encode("utf-8"), struct.pack("!I", 42), b"x" * 65507]
for message in messages:
    client.sendto(message, server_address)
    data, address = client.recvfrom(65535)
    ok = data == message[::-1] and address == server_address
    print(len(data), "ok" if ok else "MISMATCH", flush=True)

client.sendto(b"bye", server_address)
print("port", client.getsockname()[1], flush=True)
client.close()
`;

Deno.test({
  name:
    "a Python peer (socket.socket(AF_INET, SOCK_DGRAM), sendto, recvfrom) exchanges datagrams with us",
  async fn() {
    using server = bound();
    const python = pythonOutput(PYTHON_CLIENT, String(server.addr.port));
    // The echo server: reply with the payload reversed.
    const seen: Uint8Array[] = [];
    const ports = new Set<number>();
    for await (const { data, addr, truncated } of server) {
      assertEquals(truncated, false);
      ports.add(addr.port);
      if (text(data) === "bye") break;
      seen.push(data);
      await server.sendTo(data.slice().reverse(), addr);
    }
    const output = await python;
    assert(output.success, text(output.stderr));
    const lines = text(output.stdout).trim().split("\n");
    assertEquals(lines.slice(0, 5), [
      "5 ok",
      "0 ok",
      "6 ok",
      "4 ok",
      "65507 ok",
    ]);
    assertEquals(ports.size, 1);
    assertEquals(lines[5], `port ${[...ports][0]}`);
    assertEquals(text(seen[0]), "hello");
    assertEquals(seen[1].length, 0);
    assertEquals(text(seen[2]), "héllo");
    assertEquals([...seen[3]], [0, 0, 0, 42]);
    assertEquals(seen[4].length, 65507);
  },
});
