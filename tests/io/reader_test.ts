// io/reader.ts through the socket: recv, recvExactly, recvUntil, recvFrame,
// recvFrames, frames and recvStream, alone and mixed on one stream; call
// order, timeouts and aborts that lose nothing; every way a stream can end.

import {
  delimited,
  encodeFrame,
  FrameError,
  lengthPrefixed,
  listen,
  SocketError,
  type TcpSocket,
} from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  concat,
} from "../_helpers/assert.ts";
import {
  delay,
  isPending,
  rejection,
  settleOrder,
  within,
} from "../_helpers/async.ts";
import { KiB, MiB, text, utf8 } from "../_helpers/bytes.ts";
import { runPython } from "../_helpers/python.ts";
import {
  closeQuietly,
  firstMismatch,
  frameError,
  random,
  rawPair,
  socketError,
  socketPair,
  streamBytes,
  testOverTransports,
  writeAll,
} from "../_helpers/sockets.ts";

/** Writes `bytes` to a raw connection in tiny random pieces, yielding now and then. */
async function writeInPieces(
  conn: Deno.TcpConn,
  bytes: Uint8Array,
  seed: number,
  maxPiece = 23,
): Promise<number> {
  // A TLS connection has no setNoDelay (deno#13617); a Unix one no Nagle.
  (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
  const rand = random(seed);
  let writes = 0;
  for (let offset = 0; offset < bytes.length; writes++) {
    const piece = Math.min(rand(1, maxPiece), bytes.length - offset);
    await writeAll(conn, bytes.subarray(offset, offset + piece));
    offset += piece;
    if (rand(0, 9) === 0) await delay(rand(0, 2));
  }
  return writes;
}

Deno.test("recv: never empty, at most maxBytes, every byte in order, then null at the end (repeatedly)", async () => {
  await using pair = await rawPair();
  const sent = streamBytes(0, 3000);
  const writing = writeInPieces(pair.raw, sent, 1).then(() =>
    pair.raw.closeWrite()
  );
  const received: number[] = [];
  let calls = 0;
  for (; calls < 10_000; calls++) {
    const chunk = await pair.client.recv(7);
    if (chunk === null) break;
    assert(
      chunk.length >= 1 && chunk.length <= 7,
      `recv(7) gave ${chunk.length}`,
    );
    received.push(...chunk);
  }
  await writing;
  assert(calls >= 3000 / 7, `only ${calls} calls for 3000 bytes`);
  assertEquals(received.length, sent.length);
  assertEquals(new Uint8Array(received), sent);
  assertEquals(await pair.client.recv(), null);
  assertEquals(await pair.client.recv(1), null);
});

Deno.test("recv: bytes that arrived together come back together, also after frames (which read less at a time)", async () => {
  await using pair = await rawPair();
  await writeAll(pair.raw, encodeFrame(utf8("hello")));
  assertEquals(text((await pair.client.recvFrame())!), "hello");
  const burst = streamBytes(1, 3000);
  await writeAll(pair.raw, burst);
  await delay(50); // all of it in the kernel's buffer before the receive
  assertEquals(await pair.client.recv(4096), burst);
});

Deno.test("recv: a maxBytes that is not a positive integer is a RangeError", async () => {
  await using pair = await socketPair();
  for (const maxBytes of [0, -1, 1.5, NaN]) {
    assertInstanceOf(await rejection(pair.client.recv(maxBytes)), RangeError);
  }
  assertInstanceOf(await rejection(pair.client.recvExactly(-1)), RangeError);
});

/** One read of the mixed-method script and the bytes it must return. */
interface Step {
  kind: "recv" | "exactly" | "frame" | "until";
  expected: Uint8Array;
  /** For "until" only. */
  delimiter?: string;
}
function script(seed: number, steps: number): {
  steps: Step[];
  stream: Uint8Array;
} {
  const rand = random(seed);
  const out: Step[] = [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < steps; i++) {
    const kind = (["recv", "exactly", "frame", "until"] as const)[rand(0, 3)];
    const length = rand(kind === "recv" ? 1 : 0, 60);
    // Printable bytes: never "\r" or "\n", so "until" values hold no delimiter.
    const expected = new Uint8Array(length).map(() => rand(32, 126));
    if (kind === "until") {
      const delimiter = rand(0, 1) ? "\r\n" : "\n";
      out.push({ kind, expected, delimiter });
      parts.push(expected, utf8(delimiter));
    } else {
      out.push({ kind, expected });
      parts.push(kind === "frame" ? encodeFrame(expected) : expected);
    }
  }
  return { steps: out, stream: concat(parts) };
}

async function follow(socket: TcpSocket, steps: Step[]): Promise<number> {
  let index = 0;
  for (const step of steps) {
    let got: Uint8Array | null;
    if (step.kind === "recv") {
      // recv returns what has arrived: gather until the step's bytes are in.
      const pieces: number[] = [];
      for (let calls = 0; pieces.length < step.expected.length; calls++) {
        assert(calls < 1000, "recv made no progress");
        const piece = await socket.recv(step.expected.length - pieces.length);
        assert(
          piece !== null && piece.length > 0,
          `step ${index}: recv gave ${piece}`,
        );
        pieces.push(...piece);
      }
      got = new Uint8Array(pieces);
    } else if (step.kind === "exactly") {
      got = await socket.recvExactly(step.expected.length);
    } else if (step.kind === "frame") {
      got = await socket.recvFrame();
    } else {
      got = await socket.recvUntil(step.delimiter!);
    }
    assertEquals(got, step.expected, `step ${index} (${step.kind})`);
    index++;
  }
  return index;
}

testOverTransports(
  "mixed recv/recvExactly/recvUntil/recvFrame on one stream lose or reorder nothing (tiny writes)",
  async (transport) => {
    for (const seed of [11, 12, 13]) {
      await using pair = await rawPair({}, undefined, transport);
      const { steps, stream } = script(seed, 300);
      const [writes, done] = await within(
        Promise.all([
          writeInPieces(pair.raw, stream, seed).then(async (writes) => {
            await pair.raw.closeWrite();
            return writes;
          }),
          follow(pair.client, steps),
        ]),
        10_000,
        `the script of seed ${seed}`,
      );
      assert(writes > 300, `the stream went in only ${writes} writes`);
      assertEquals(done, steps.length);
      assertEquals(await pair.client.recv(), null, "bytes left over");
    }
  },
);

testOverTransports(
  "mixed reads: the same script with the whole stream already buffered",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const { steps, stream } = script(21, 300);
    await writeAll(pair.raw, stream);
    await pair.raw.closeWrite();
    assertEquals(await within(follow(pair.client, steps), 5000, "script"), 300);
    assertEquals(await pair.client.recv(), null);
  },
);

testOverTransports(
  "recv: a recv that times out (timeout 50) loses nothing; the late bytes come with the next recv",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    pair.peer.timeout = 50;
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      const error = await socketError(pair.peer.recv(), "ETIMEDOUT");
      const elapsed = performance.now() - started;
      assert(elapsed >= 45 && elapsed < 1000, `timed out after ${elapsed} ms`);
      assert(error.message.includes("50 ms"), error.message);
      await pair.client.send(`late ${round}`);
      await delay(20); // The bytes land while nobody is receiving.
      assertEquals(text((await pair.peer.recv())!), `late ${round}`);
    }
    pair.peer.timeout = undefined;
    await pair.client.send("after");
    assertEquals(text(await pair.peer.recvExactly(5)), "after");
  },
);

testOverTransports(
  "recvFrame: timing out in the middle of a frame, then completing it, returns the whole frame",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const payload = streamBytes(0, 1000);
    const frame = encodeFrame(payload);
    pair.client.timeout = 50;
    await writeAll(pair.raw, frame.subarray(0, 2)); // Half a header.
    await socketError(pair.client.recvFrame(), "ETIMEDOUT");
    await writeAll(pair.raw, frame.subarray(2, 400)); // Header and some payload.
    await socketError(pair.client.recvFrame(), "ETIMEDOUT");
    await socketError(pair.client.recvFrame(), "ETIMEDOUT");
    await writeAll(pair.raw, frame.subarray(400));
    await writeAll(pair.raw, encodeFrame(utf8("next")));
    assertEquals(await pair.client.recvFrame(), payload);
    assertEquals(text((await pair.client.recvFrame())!), "next");
  },
);

testOverTransports(
  "recvExactly and recvUntil: timing out mid-way, then completing, lose nothing",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    pair.client.timeout = 40;
    await writeAll(pair.raw, utf8("abc"));
    await socketError(pair.client.recvExactly(6), "ETIMEDOUT");
    await writeAll(pair.raw, utf8("defline"));
    assertEquals(text(await pair.client.recvExactly(6)), "abcdef");
    await socketError(pair.client.recvUntil("\n"), "ETIMEDOUT");
    await writeAll(pair.raw, utf8(" one\n"));
    assertEquals(text((await pair.client.recvUntil("\n"))!), "line one");
  },
);

testOverTransports(
  "recv: concurrent recv calls share the stream: no byte twice, none invented",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    const first = pair.peer.recv();
    const second = pair.peer.recv();
    await pair.client.send("abc");
    assertEquals(text((await first)!), "abc");
    assert(await isPending(second), "the second recv returned without bytes");
    await pair.client.send("def");
    assertEquals(text((await within(second, 1000, "second recv"))!), "def");
    assertEquals(pair.peer.buffered, 0);
    // The same through a timed-out read picked up by two waiting callers.
    pair.peer.timeout = 20;
    await socketError(pair.peer.recv(), "ETIMEDOUT");
    pair.peer.timeout = undefined;
    const a = pair.peer.recvExactly(2);
    const b = pair.peer.recvExactly(2);
    await pair.client.send("wxyz");
    assertEquals([text(await a), text(await b)], ["wx", "yz"]);
    assertEquals(pair.peer.buffered, 0);
  },
);

Deno.test("frames: next() called again before it settles, and a recvFrame on the same read: each frame once, in order", async () => {
  await using pair = await rawPair();
  const iterator = pair.client.frames()[Symbol.asyncIterator]();
  const first = iterator.next();
  const second = iterator.next();
  const third = iterator.next();
  const other = pair.client.recvFrame();
  // Each frame in two pieces, so every waiter sees a read that completes nothing.
  for (const word of ["one", "two", "three", "four"]) {
    const frame = encodeFrame(utf8(word));
    await writeAll(pair.raw, frame.subarray(0, 3));
    await delay(5);
    await writeAll(pair.raw, frame.subarray(3));
    await delay(5);
  }
  const got = [
    text((await first).value!),
    text((await second).value!),
    text((await third).value!),
  ];
  const alone = text((await within(other, 1000, "recvFrame"))!);
  // The iterator's calls keep their order; recvFrame took whichever frame it
  // was first to see, and no frame came twice.
  assertEquals([...got, alone].sort(), ["four", "one", "three", "two"]);
  assertEquals(got, [...got].sort((a, b) => order(a) - order(b)));
  assertEquals(pair.client.buffered, 0);
});

function order(word: string): number {
  return ["one", "two", "three", "four"].indexOf(word);
}

testOverTransports(
  "recvFrame: the peer closing inside a frame is FrameError INCOMPLETE_FRAME",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const frame = encodeFrame(utf8("0123456789"));
    await writeAll(pair.raw, encodeFrame(utf8("whole")));
    await writeAll(pair.raw, frame.subarray(0, 7));
    await pair.raw.closeWrite();
    assertEquals(text((await pair.client.recvFrame())!), "whole");
    const error = await frameError(pair.client.recvFrame(), "INCOMPLETE_FRAME");
    assert(error.message.includes("7 bytes"), error.message);
  },
);

testOverTransports(
  "recvFrame: the peer closing inside a header is INCOMPLETE_FRAME; between frames it is null",
  async (transport) => {
    {
      await using pair = await rawPair({}, undefined, transport);
      await writeAll(pair.raw, new Uint8Array([0, 0]));
      await pair.raw.closeWrite();
      await frameError(pair.client.recvFrame(), "INCOMPLETE_FRAME");
    }
    {
      await using pair = await rawPair({}, undefined, transport);
      await writeAll(pair.raw, encodeFrame(new Uint8Array(0)));
      await pair.raw.closeWrite();
      assertEquals(await pair.client.recvFrame(), new Uint8Array(0));
      assertEquals(await pair.client.recvFrame(), null);
      assertEquals(await pair.client.recvFrame(), null);
    }
  },
);

Deno.test("recvFrame: a header announcing more than maxFrameBytes is FRAME_TOO_LARGE before the payload", async () => {
  await using pair = await rawPair({
    framing: lengthPrefixed({ maxFrameBytes: 1000 }),
  });
  // Only the header: the error must not wait for 1001 bytes of payload.
  await writeAll(pair.raw, new Uint8Array([0, 0, 0x03, 0xe9]));
  const error = await frameError(
    within(pair.client.recvFrame(), 1000, "the oversized header"),
    "FRAME_TOO_LARGE",
  );
  assert(error.message.includes("1001"), error.message);
  // A 4 GiB header with the default 16 MiB limit: no 4 GiB allocation either.
  await using other = await rawPair();
  await writeAll(other.raw, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  await frameError(
    within(other.client.recvFrame(), 1000, "the 4 GiB header"),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("recvExactly: past the end is SocketError EOF; the bytes that arrived stay buffered", async () => {
  await using pair = await rawPair();
  await writeAll(pair.raw, utf8("12345"));
  await pair.raw.closeWrite();
  const error = await socketError(pair.client.recvExactly(8), "EOF");
  assert(error.message.includes("after 5"), error.message);
  assertEquals(pair.client.buffered, 5);
  assertEquals(text(await pair.client.recvExactly(5)), "12345");
  assertEquals(await pair.client.recvExactly(0), new Uint8Array(0));
  await socketError(pair.client.recvExactly(1), "EOF");
  assertEquals(await pair.client.recv(), null);
});

Deno.test("recvUntil: bytes but no delimiter at the end is EOF; nothing buffered at the end is null", async () => {
  await using pair = await rawPair();
  await writeAll(pair.raw, utf8("one\r\ntwo\r\nunterminated"));
  await pair.raw.closeWrite();
  assertEquals(text((await pair.client.recvUntil("\r\n"))!), "one");
  assertEquals(text((await pair.client.recvUntil(utf8("\r\n")))!), "two");
  await socketError(pair.client.recvUntil("\r\n"), "EOF");
  assertEquals(text(await pair.client.recvExactly(12)), "unterminated");
  assertEquals(await pair.client.recvUntil("\r\n"), null);
});

Deno.test("recvUntil: more than maxBytes without the delimiter is FrameError FRAME_TOO_LARGE", async () => {
  await using pair = await rawPair();
  await writeAll(pair.raw, utf8("short;"));
  assertEquals(
    text((await pair.client.recvUntil(";", { maxBytes: 10 }))!),
    "short",
  );
  await writeAll(pair.raw, utf8("0123456789ABCDEF;"));
  await frameError(
    within(
      pair.client.recvUntil(";", { maxBytes: 10 }),
      1000,
      "recvUntil past maxBytes",
    ),
    "FRAME_TOO_LARGE",
  );
  // Exactly maxBytes before the delimiter is allowed.
  await using other = await rawPair();
  await writeAll(other.raw, utf8("0123456789;"));
  assertEquals(
    text((await other.client.recvUntil(";", { maxBytes: 10 }))!),
    "0123456789",
  );
});

/** A Python client that sends "hello", waits for 5 bytes, then resets (SO_LINGER 0). */
const RESETTING_CLIENT = `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hello")
s.recv(5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
`;

Deno.test("recv: a peer that resets (SO_LINGER 0, then close) is SocketError ECONNRESET", async () => {
  await using server = listen();
  const python = runPython(RESETTING_CLIENT, `${server.addr.port}`);
  await using peer = await within(server.accept(), 5000, "the Python client");
  assertEquals(text(await peer.recvExactly(5)), "hello");
  await peer.send("reset");
  const error = await socketError(
    within(peer.recv(), 5000, "recv after the reset"),
    "ECONNRESET",
  );
  assertInstanceOf(error.cause, Deno.errors.ConnectionReset);
  // The error stays: later reads see it too, not a false end of stream.
  await socketError(peer.recv(), "ECONNRESET");
  await socketError(peer.recvFrame(), "ECONNRESET");
  const { code, stderr } = await python.finish();
  assertEquals(code, 0, stderr);
});

Deno.test("frames(): every frame of a 1 MB stream of small frames stays valid until the end", async () => {
  await using pair = await rawPair();
  const frameOf = (i: number): Uint8Array => {
    const bytes = new Uint8Array(i % 97);
    for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 7 + j) & 255;
    return bytes;
  };
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let i = 0; size < MiB; i++) {
    const frame = encodeFrame(frameOf(i));
    parts.push(frame);
    size += frame.length;
  }
  const stream = concat(parts);
  const writing = writeInPieces(pair.raw, stream, 5, 4096).then(() =>
    pair.raw.closeWrite()
  );
  const kept: Uint8Array[] = [];
  for await (const frame of pair.client.frames()) {
    kept.push(frame);
    if (kept.length > parts.length) break;
  }
  await writing;
  assertEquals(kept.length, parts.length);
  for (let i = 0; i < kept.length; i++) {
    assertEquals(
      kept[i],
      frameOf(i),
      `frame ${i} changed after it was returned`,
    );
  }
});

testOverTransports(
  "frames(): large frames of mixed sizes (16 KiB to 400 KiB), split anywhere, each intact and unchanged until the end",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    // Sizes around the points where reads and allocations change: one read,
    // a frame a byte either side of 64 KiB and 256 KiB, several of each.
    const sizes = [
      65536,
      65536,
      65536,
      16 * KiB + 1,
      65535,
      65537,
      65537,
      262143,
      262144,
      262145,
      400_000,
      20_000,
      65536,
      65536,
      100_000,
      100_000,
      65536,
    ];
    const frameOf = (i: number): Uint8Array => {
      const bytes = new Uint8Array(sizes[i]);
      for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 13 + j * 7) & 255;
      return bytes;
    };
    const stream = concat(sizes.map((_, i) => encodeFrame(frameOf(i))));
    const writing = writeInPieces(pair.raw, stream, 11, 70_000).then(() =>
      pair.raw.closeWrite()
    );
    const kept: Uint8Array[] = [];
    for await (const frame of pair.client.frames()) kept.push(frame);
    await writing;
    assertEquals(kept.map((frame) => frame.length), sizes);
    for (let i = 0; i < kept.length; i++) {
      assertEquals(
        kept[i],
        frameOf(i),
        `frame ${i} changed after it was returned`,
      );
    }
  },
);

Deno.test("frames(): breaking out of the loop leaves the socket open; recvFrame gets the next frame", async () => {
  await using pair = await socketPair();
  for (const word of ["a", "b", "c"]) await pair.client.sendFrame(utf8(word));
  for await (const frame of pair.peer.frames()) {
    assertEquals(text(frame), "a");
    break;
  }
  assertEquals(text((await pair.peer.recvFrame())!), "b");
  for await (const frame of pair.peer.frames()) {
    assertEquals(text(frame), "c");
    break;
  }
  await pair.client.sendFrame(utf8("d"));
  pair.client.close();
  const rest: string[] = [];
  for await (const frame of pair.peer.frames()) rest.push(text(frame));
  assertEquals(rest, ["d"]);
});

Deno.test("recvFrame and frames(): a framing per call (delimited lines, then length-prefixed)", async () => {
  await using pair = await rawPair();
  const lines = delimited();
  await writeAll(pair.raw, utf8("one\ntwo\n"));
  await writeAll(pair.raw, encodeFrame(utf8("framed")));
  await writeAll(pair.raw, utf8("three\n"));
  await pair.raw.closeWrite();
  assertEquals(text((await pair.client.recvFrame(lines))!), "one");
  for await (const line of pair.client.frames(lines)) {
    assertEquals(text(line), "two");
    break;
  }
  assertEquals(text((await pair.client.recvFrame())!), "framed");
  const rest: string[] = [];
  for await (const line of pair.client.frames(lines)) rest.push(text(line));
  assertEquals(rest, ["three"]);
});

Deno.test("recvStream/sendStream: a 20 MiB body moves through bounded memory; the frame after it still reads", async () => {
  await using pair = await socketPair();
  const size = 20 * MiB;
  const chunk = streamBytes(0, 64 * KiB); // Every 64 KiB of the stream is alike.
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= size) return controller.close();
      controller.enqueue(chunk);
      pulled += chunk.length;
    },
  }, { highWaterMark: 0 });
  const sending = (async () => {
    await pair.client.sendFrame(utf8(JSON.stringify({ size })));
    const sent = await pair.client.sendStream(body);
    await pair.client.sendFrame(utf8("after the body"));
    await pair.client.flush();
    return sent;
  })();

  const header = JSON.parse(text((await pair.peer.recvFrame())!));
  assertEquals(header, { size });
  // The receiver stalls: the sender must stop far short of the whole body.
  await delay(300);
  const aheadWhileStalled = pulled;
  assert(
    aheadWhileStalled < 12 * MiB,
    `the sender pulled ${aheadWhileStalled} bytes while nothing was read`,
  );
  let received = 0;
  let largestChunk = 0;
  let largestBuffered = 0;
  for await (const piece of pair.peer.recvStream(header.size)) {
    const bad = firstMismatch(piece, received);
    assert(bad === -1, `byte ${received + bad} of the body is wrong`);
    received += piece.length;
    largestChunk = Math.max(largestChunk, piece.length);
    largestBuffered = Math.max(largestBuffered, pair.peer.buffered);
  }
  assertEquals(received, size);
  assertEquals(await sending, size);
  assert(
    largestChunk <= MiB,
    `a chunk of ${largestChunk} bytes was handed out`,
  );
  assert(largestBuffered <= MiB, `${largestBuffered} bytes were buffered`);
  assertEquals(text((await pair.peer.recvFrame())!), "after the body");
});

Deno.test("recvStream: the stream ending before the body does is SocketError EOF through the stream", async () => {
  await using pair = await rawPair();
  await writeAll(pair.raw, utf8("only ten b"));
  await pair.raw.closeWrite();
  const reader = pair.client.recvStream(100).getReader();
  let received = 0;
  let error: unknown;
  try {
    for (let reads = 0; reads < 100; reads++) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.length;
    }
  } catch (caught) {
    error = caught;
  }
  assertEquals(received, 10);
  assertInstanceOf(error, SocketError);
  assertEquals(error.code, "EOF");
  assert(error.message.includes("after 10"), error.message);
  // A zero-length body is an empty stream.
  const empty = await new Response(pair.client.recvStream(0)).arrayBuffer();
  assertEquals(empty.byteLength, 0);
});

Deno.test("recvFrame: after a FrameError the socket keeps its other methods", async () => {
  await using pair = await rawPair({
    framing: lengthPrefixed({ maxFrameBytes: 3 }),
  });
  await writeAll(pair.raw, new Uint8Array([0, 0, 0, 9]));
  await writeAll(pair.raw, utf8("rest"));
  const error = await rejection(pair.client.recvFrame());
  assertInstanceOf(error, FrameError);
  // The header was not consumed: the bytes are all still there.
  assertEquals(
    await pair.client.recvExactly(8),
    new Uint8Array([0, 0, 0, 9, ...utf8("rest")]),
  );
  closeQuietly(pair.raw);
});
Deno.test("recvFrames: returns every frame sent in one batch, in order, then null at the end", async () => {
  await using pair = await socketPair();
  const sent = Array.from({ length: 5000 }, (_, i) => utf8(`frame ${i}`));
  await pair.client.sendFrames(sent);
  pair.client.close();
  const received: string[] = [];
  let batches = 0;
  for (let round = 0; round < 10_000; round++) {
    const frames = await within(pair.peer.recvFrames(), 5000, "a batch");
    if (frames === null) break;
    assert(frames.length > 0, "an empty batch");
    batches++;
    received.push(...frames.map(text));
  }
  assertEquals(received, sent.map(text));
  assert(
    batches < sent.length / 10,
    `${batches} batches for ${sent.length} frames`,
  );
});

Deno.test("recvFrames: a malformed frame after good ones: the good ones first, the error on the next call", async () => {
  await using pair = await rawPair({});
  // Two good frames, then a header announcing more than the 16 MiB limit.
  const bytes = new Uint8Array([
    ...encodeFrame(utf8("a")),
    ...encodeFrame(utf8("b")),
    0xff,
    0xff,
    0xff,
    0xff,
  ]);
  await writeAll(pair.raw, bytes);
  let frames: Uint8Array[] | null = null;
  for (let round = 0; round < 100 && (frames?.length ?? 0) < 2; round++) {
    const more = await within(
      pair.client.recvFrames(),
      5000,
      "the good frames",
    );
    frames = [...(frames ?? []), ...(more ?? [])];
  }
  assertEquals(frames?.map(text), ["a", "b"]);
  const error = await frameError(pair.client.recvFrames(), "FRAME_TOO_LARGE");
  assert(error instanceof FrameError);
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

Deno.test("call order: a recvFrame with no deadline reads for itself; a call behind it that times out loses nothing", async () => {
  await using pair = await rawPair();
  // Nobody ahead, nothing buffered, no deadline: it drives its own reads.
  const frame = pair.client.recvFrame();
  await socketError(pair.client.recv(16, { timeout: 20 }), "ETIMEDOUT");
  assert(await isPending(frame), "the frame receive still waits");
  const bytes = new Uint8Array([
    ...encodeFrame(utf8("whole")),
    ...utf8("tail"),
  ]);
  await trickle(pair.raw, bytes);
  assertEquals(text((await within(frame, 2000, "recvFrame"))!), "whole");
  const tail = await within(pair.client.recvExactly(4), 2000, "the tail");
  assertEquals(text(tail), "tail");
});

Deno.test("call order: close() rejects a waiting recvFrame, then the calls behind it, at once", async () => {
  await using pair = await rawPair();
  const frame = pair.client.recvFrame();
  const after = pair.client.recvFrame();
  const timed = pair.client.recv(16, { timeout: 60_000 });
  // Half a frame arrives first: the first call is inside its frame.
  await writeAll(pair.raw, encodeFrame(utf8("never whole")).subarray(0, 6));
  await delay(10);
  const order = settleOrder({ frame, after, timed });
  pair.client.close();
  assertEquals(await within(order, 1000, "the three calls"), [
    "frame rejected",
    "after rejected",
    "timed rejected",
  ]);
  await socketError(frame, "ECLOSED");
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
