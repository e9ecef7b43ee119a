// Defined behaviour under misuse and concurrency (issue #13, items 1-5, 10,
// 11): what a caller who passes the wrong thing, calls twice at once, closes
// mid-call or cancels a call gets. Every wait is bounded: a regression fails
// here instead of hanging.

import {
  bindUdp,
  connect,
  encodeFrame,
  type Framing,
  listen,
  serve,
  tryConnect,
} from "../mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertThrows,
} from "./_helpers/assert.ts";
import { delay, isPending, within } from "./_helpers/async.ts";
import { KiB, text, utf8 } from "./_helpers/bytes.ts";
import {
  rawPair,
  readToEnd,
  socketError,
  socketPair,
  testOverTransports,
  writeAll,
} from "./_helpers/sockets.ts";

// ---------------------------------------------------------------------------
// 1. send() takes bytes-like values and strings; anything else is a TypeError

Deno.test("send: an ArrayBuffer, a DataView and a Uint16Array go as their raw bytes", async () => {
  await using pair = await rawPair();
  const words = new Uint16Array([0x4142, 0x4344]); // little-endian: "BADC"
  const buffer = utf8("xy").buffer as ArrayBuffer;
  const view = new DataView(utf8("__z__").buffer, 2, 1);
  await pair.client.send(words);
  await pair.client.send(buffer);
  await pair.client.send(view);
  pair.client.close();
  const received = await within(readToEnd(pair.raw), 5000, "the bytes");
  assertEquals([...received], [
    ...new Uint8Array(words.buffer),
    ...utf8("xy"),
    ...utf8("z"),
  ]);
});

Deno.test("send: a number, an object, a boolean, a bigint, an array or null is a TypeError at once; the socket stays usable", async () => {
  await using pair = await socketPair();
  const bad: unknown[] = [42, { length: 3 }, true, 7n, [1, 2, 3], null];
  for (const value of bad) {
    const error = await within(
      assertRejects(
        () => pair.client.send(value as string),
        TypeError,
      ),
      1000,
      `send(${typeof value})`,
    );
    assert(error.message.startsWith("Cannot send: data must be"));
  }
  // A timeout does not turn a bad value into a broken socket either.
  pair.client.timeout = 50;
  await assertRejects(() => pair.client.send(undefined as never), TypeError);
  await pair.client.send("still fine");
  await within(pair.client.flush(), 1000, "flush");
  assertEquals(text(await pair.peer.recvExactly(10)), "still fine");
});

Deno.test("sendFrame: a value the framing cannot encode is a TypeError; the next frame goes through", async () => {
  await using pair = await socketPair();
  await assertRejects(
    () => pair.client.sendFrame(new ArrayBuffer(3) as unknown as Uint8Array),
    TypeError,
  );
  await pair.client.sendFrame(utf8("ok"));
  assertEquals(text((await pair.peer.recvFrame())!), "ok");
});

Deno.test("sendFrame: a user framing whose encode returns no bytes is a TypeError; the socket stays usable", async () => {
  await using pair = await socketPair();
  const broken: Framing<string> = {
    encode: (value) => value as unknown as Uint8Array,
    decode: () => null,
  };
  const error = await assertRejects(
    () => pair.client.sendFrame("text", broken),
    TypeError,
  );
  assert(error.message.includes("not a Uint8Array"), error.message);
  await pair.client.sendFrame(utf8("ok"));
  assertEquals(text((await pair.peer.recvFrame())!), "ok");
});

// ---------------------------------------------------------------------------
// 2. Concurrent receives are served in call order

/** Writes `bytes` to `raw` one byte at a time, with a pause between. */
async function trickle(raw: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  for (const byte of bytes) {
    await writeAll(raw, new Uint8Array([byte]));
    await delay(2);
  }
}

testOverTransports(
  "call order: recvExactly(4) then recv(2), both pending while bytes trickle in, get abcd and ef",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const first = pair.client.recvExactly(4);
    const second = pair.client.recv(2);
    await trickle(pair.raw, utf8("abcdefgh"));
    assertEquals(text(await within(first, 2000, "recvExactly")), "abcd");
    const rest = text((await within(second, 2000, "recv"))!);
    assert(rest === "e" || rest === "ef", `got ${JSON.stringify(rest)}`);
    // Nothing was lost: what recv did not take is still there, in order.
    const tail = await within(
      pair.client.recvExactly(8 - 4 - rest.length),
      2000,
      "the rest",
    );
    assertEquals(rest + text(tail), "efgh");
  },
);

Deno.test("call order: recvFrame() then recvExactly(2): the frame is whole, the two bytes come after it", async () => {
  await using pair = await rawPair();
  const frame = pair.client.recvFrame();
  const after = pair.client.recvExactly(2);
  const bytes = new Uint8Array([...encodeFrame(utf8("hello")), ...utf8("!?")]);
  await trickle(pair.raw, bytes);
  assertEquals(text((await within(frame, 2000, "recvFrame"))!), "hello");
  assertEquals(text(await within(after, 2000, "recvExactly")), "!?");
});

Deno.test("call order: frames() steps and recv calls interleave without taking each other's bytes", async () => {
  await using pair = await rawPair();
  const frames = pair.client.frames();
  const calls = [
    frames.next(),
    pair.client.recvExactly(3),
    frames.next(),
  ];
  const bytes = new Uint8Array([
    ...encodeFrame(utf8("one")),
    ...utf8("xyz"),
    ...encodeFrame(utf8("two")),
  ]);
  await trickle(pair.raw, bytes);
  const [a, b, c] = await within(Promise.all(calls), 2000, "all three");
  assertEquals(text((a as IteratorResult<Uint8Array>).value), "one");
  assertEquals(text(b as Uint8Array), "xyz");
  assertEquals(text((c as IteratorResult<Uint8Array>).value), "two");
});

// ---------------------------------------------------------------------------
// 11. Per-call cancellation and timeouts lose nothing

testOverTransports(
  "abort: a recvFrame aborted in the middle of a frame loses nothing; the next recvFrame returns the whole frame",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const frame = encodeFrame(new Uint8Array(10 * KiB).fill(7));
    const controller = new AbortController();
    const pending = pair.client.recvFrame({ signal: controller.signal });
    await writeAll(pair.raw, frame.subarray(0, 5000));
    await delay(20);
    controller.abort(new Error("user gave up"));
    const error = await within(
      socketError(pending, "ECANCELED"),
      1000,
      "the aborted call",
    );
    assertEquals((error.cause as Error).message, "user gave up");
    await writeAll(pair.raw, frame.subarray(5000));
    const value = await within(pair.client.recvFrame(), 2000, "the frame");
    assertEquals(value?.length, 10 * KiB);
    assert(value!.every((byte) => byte === 7), "the frame's bytes differ");
  },
);

Deno.test("timeout option: recv, recvExactly, recvUntil and recvFrames each time out on their own; the bytes come later", async () => {
  await using pair = await socketPair();
  const started = performance.now();
  await within(
    socketError(pair.peer.recv(16, { timeout: 30 }), "ETIMEDOUT"),
    1000,
    "the call",
  );
  await within(
    socketError(pair.peer.recvExactly(3, { timeout: 30 }), "ETIMEDOUT"),
    1000,
    "the call",
  );
  await within(
    socketError(pair.peer.recvUntil("\n", { timeout: 30 }), "ETIMEDOUT"),
    1000,
    "the call",
  );
  await within(
    socketError(pair.peer.recvFrames({ timeout: 30 }), "ETIMEDOUT"),
    1000,
    "the call",
  );
  assert(performance.now() - started < 2000, "the timeouts took too long");
  await pair.client.send("line\n");
  await pair.client.sendFrame(utf8("frame"));
  assertEquals(text((await pair.peer.recvUntil("\n"))!), "line");
  assertEquals(text((await pair.peer.recvFrame())!), "frame");
});

Deno.test("abort: an already aborted signal rejects every kind of call at once with ECANCELED", async () => {
  await using pair = await socketPair({ highWaterMark: 16 });
  const signal = AbortSignal.abort(new Error("no"));
  await within(
    socketError(pair.peer.recv(8, { signal }), "ECANCELED"),
    1000,
    "the call",
  );
  await within(
    socketError(pair.peer.recvFrame({ signal }), "ECANCELED"),
    1000,
    "the call",
  );
  // A send over the high-water mark waits for room: that wait is cancelled.
  await within(
    socketError(pair.client.send(new Uint8Array(64), { signal }), "ECANCELED"),
    1000,
    "the send",
  );
  await within(
    socketError(pair.client.flush({ signal }), "ECANCELED"),
    1000,
    "the call",
  );
});

// ---------------------------------------------------------------------------
// 3. close() settles every pending call at once

testOverTransports(
  "close(): a send waiting for room (the peer does not read) rejects at once with ECLOSED, and so does a pending recv",
  async (transport) => {
    await using pair = await rawPair(
      { highWaterMark: 64 * KiB },
      undefined,
      transport,
    );
    const chunk = new Uint8Array(32 * KiB);
    let waiting: Promise<void> | undefined;
    for (let i = 0; i < 4096; i++) {
      const sent = pair.client.send(chunk);
      if (await isPending(sent)) {
        waiting = sent;
        break;
      }
    }
    assert(waiting !== undefined, "no send ever waited for room");
    const receiving = pair.client.recv();
    const flushing = pair.client.flush();
    pair.client.close();
    await within(socketError(waiting, "ECLOSED"), 1000, "the waiting send");
    await within(socketError(receiving, "ECLOSED"), 1000, "the pending recv");
    await within(socketError(flushing, "ECLOSED"), 1000, "the pending flush");
    // What was accepted still arrives once the peer reads, then the end.
    const received = await within(readToEnd(pair.raw), 10_000, "the bytes");
    assert(received.length >= 64 * KiB, `only ${received.length} bytes`);
  },
);

// ---------------------------------------------------------------------------
// 4, 5, 10. Servers and addresses

Deno.test("accept: two concurrent accept() calls each get their own connection, in call order", async () => {
  using server = listen();
  const first = server.accept();
  const second = server.accept();
  await using a = await connect({ port: server.addr.port });
  await using peerA = await within(first, 2000, "first accept");
  await using b = await connect({ port: server.addr.port });
  await using peerB = await within(second, 2000, "second accept");
  assertEquals(peerA.remoteAddr.port, a.localAddr.port);
  assertEquals(peerB.remoteAddr.port, b.localAddr.port);
});

Deno.test("accept: close() rejects every queued accept with ECLOSED", async () => {
  const server = listen();
  const pending = [server.accept(), server.accept(), server.accept()];
  server.close();
  for (const accept of pending) {
    await within(socketError(accept, "ECLOSED"), 1000, "a queued accept");
  }
});

Deno.test("using: a listener closes with `using` (no await), like a UDP socket", async () => {
  let port: number;
  {
    using server = listen();
    port = server.addr.port;
  }
  const result = await tryConnect({ port });
  assertEquals(result.ok ? "connected" : result.error.code, "ECONNREFUSED");
});

Deno.test("hostname: an empty or non-string hostname is a TypeError before any I/O, for every entry point", async () => {
  for (const hostname of ["", 42, null]) {
    const options = { hostname: hostname as string, port: 9 };
    await assertRejects(() => connect(options), TypeError);
    await assertRejects(() => tryConnect(options), TypeError);
    assertThrows(() => listen({ hostname: hostname as string }), TypeError);
    assertThrows(
      () => serve({ hostname: hostname as string }, () => {}),
      TypeError,
    );
    assertThrows(() => bindUdp({ hostname: hostname as string }), TypeError);
  }
  using udp = bindUdp();
  await assertRejects(
    () => udp.sendTo("x", { hostname: "", port: 9 }),
    TypeError,
  );
});
