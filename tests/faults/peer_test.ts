// Fault tests over loopback (issue #7, item 2), part 1: hostile or broken
// peers. A peer that resets mid-frame (both directions), one that sends a
// header and stalls (slowloris), and one that never reads while we send
// (backpressure, memory bounded, every byte intact afterwards).
//
// Every loop is bounded in count and every wait in time; only 127.0.0.1.
// Run with the project's test flags:
//   deno test --sanitize-ops --sanitize-resources \
//     --allow-net=127.0.0.1,[::1],localhost --allow-run --allow-read \
//     --allow-write --allow-env tests/faults*_test.ts

import {
  connect,
  encodeFrame,
  FrameDecoder,
  lengthPrefixed,
  serve,
} from "../../mod.ts";
import { assert, assertEquals, assertInstanceOf } from "../_helpers/assert.ts";
import { delay, isPending, within } from "../_helpers/async.ts";
import { KiB, MiB, utf8 } from "../_helpers/bytes.ts";
import { echo, healthy, until, watch } from "../_helpers/faults.ts";
import { runPython } from "../_helpers/python.ts";
import {
  random,
  socketError,
  streamBytes,
  writeAll,
} from "../_helpers/sockets.ts";

// A Python client that, `n` times: connects, sends a header announcing
// 200000 bytes and 70000 of them, waits for the server's "k" (sent once the
// handler holds part of the frame), then resets (SO_LINGER 0, then close).
const RESET_MID_FRAME_CLIENT = `
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(20)
    s.sendall(struct.pack("!I", 200000) + bytes(70000))
    assert s.recv(1) == b"k"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print("reset", n)
`;

Deno.test("faults: clients that reset mid-frame end their handlers quietly with ECONNRESET; other clients unaffected", async () => {
  const w = watch();
  const resets = 20;
  let midFrame = 0;
  const server = serve(
    { port: 0, onError: w.onError },
    w.wrap(async (socket) => {
      const first = socket.recvFrame();
      first.catch(() => {}); // Awaited below; not unhandled meanwhile.
      if (socket.remoteAddr.port === 0) throw new Error("no peer address");
      // Healthy clients start with a 5-byte frame and wait for its echo;
      // resetting ones send part of a 200000-byte frame and wait for "k".
      for (let polls = 0; polls < 2000 && socket.buffered < 8; polls++) {
        if (!await isPending(first)) break;
        await delay(5);
      }
      if (await isPending(first)) {
        midFrame++;
        await socket.send("k");
        await first; // The reset arrives here.
        throw new Error("a frame arrived from a client that reset");
      }
      const frame = await first;
      if (frame === null) return;
      await socket.sendFrame(frame);
      await echo(socket);
    }),
  );
  const port = server.addr.port;
  let stop = false;
  const others = Promise.all(
    Array.from({ length: 4 }, (_, c) => healthy(port, `other${c}`, () => stop)),
  );
  const python = runPython(RESET_MID_FRAME_CLIENT, `${port}`, `${resets}`);
  const { code, stdout, stderr } = await within(
    python.finish(),
    30_000,
    "the resetting Python clients",
  );
  assertEquals(code, 0, stderr);
  assertEquals(stdout.trim(), `reset ${resets}`);
  stop = true;
  const rounds = await within(others, 20_000, "the healthy clients");
  for (const n of rounds) assert(n >= 3, `a healthy client did ${n} rounds`);
  await until(() => w.ended === w.started, 10_000, "every handler to end");
  await within(server.shutdown(), 10_000, "shutdown");

  assertEquals(midFrame, resets);
  const resetOutcomes = w.outcomes.filter((outcome) => outcome !== "ok");
  assertEquals(resetOutcomes, Array(resets).fill("ECONNRESET"));
  assertEquals(w.outcomes.length, resets + 4);
  assertEquals(w.errors, [], "a reset is a normal end: onError not called");
});

// A Python server that, per connection, sends the start of a frame (part of
// the header on the first, the header and half the payload on the second),
// waits for one byte from the client, then resets.
const RESET_MID_FRAME_SERVER = `
import socket, struct
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
parts = [struct.pack("!I", 1000)[:2], struct.pack("!I", 100000) + bytes(50000)]
for part in parts:
    s, _ = listener.accept()
    s.settimeout(20)
    s.sendall(part)
    assert s.recv(1) == b"k"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
# Third: read about 100 kB of a large frame, then reset while it is sent.
s, _ = listener.accept()
s.settimeout(20)
got = 0
while got < 100000:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += len(chunk)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("done", flush=True)
`;

Deno.test("faults: a server that resets mid-frame is ECONNRESET for recvFrame (in a header, in a payload) and for a large send", async () => {
  const python = runPython(RESET_MID_FRAME_SERVER);
  const port = Number(
    await within(python.readLine(), 20_000, "the Python server's port"),
  );
  const parts = [
    { where: "inside the header", sent: [0, 0] },
    { where: "inside the payload", sent: [0, 1, 0x86, 0xa0] }, // + 50000 zeros
  ];
  for (const { where, sent } of parts) {
    await using client = await connect({ port, timeout: 10_000 });
    client.timeout = 10_000;
    const pending = client.recvFrame();
    pending.catch(() => {});
    await until(() => client.buffered > 0, 10_000, `bytes ${where}`);
    assert(await isPending(pending), `recvFrame settled ${where}`);
    await client.send("k");
    const error = await socketError(pending, "ECONNRESET");
    assertInstanceOf(error.cause, Deno.errors.ConnectionReset);
    // The error stays; the partial frame is never handed out as a frame.
    await socketError(client.recvFrame(), "ECONNRESET");
    // The bytes that did arrive before the reset are not lost: recv() hands
    // them out as bytes, then reports the reset again.
    const got: number[] = [];
    for (let reads = 0; reads < 100 && client.buffered > 0; reads++) {
      got.push(...(await client.recv())!);
    }
    const expected = sent.length === 2
      ? sent
      : [...sent, ...Array(50000).fill(0)];
    assertEquals(got.length, expected.length, where);
    assertEquals(got, expected, where);
    await socketError(client.recv(), "ECONNRESET");
    // Writing to it fails too (maybe only at the flush).
    await socketError(
      (async () => {
        await client.send("more");
        await client.flush();
      })(),
      "EPIPE",
      "ECONNRESET",
    );
  }
  {
    // An 8 MiB frame the peer stops reading after ~100 kB, then resets.
    await using client = await connect({ port, timeout: 10_000 });
    client.timeout = 20_000;
    const big = streamBytes(0, 8 * MiB);
    await socketError(
      (async () => {
        await client.sendFrame(big);
        await client.flush();
      })(),
      "EPIPE",
      "ECONNRESET",
    );
  }
  const { code, stderr } = await within(python.finish(), 20_000, "python");
  assertEquals(code, 0, stderr);
});

Deno.test("faults: slowloris (a header, then nothing) is closed by idleTimeout; other clients unaffected; onError not called", async () => {
  const w = watch();
  const idleTimeout = 1000;
  const server = serve(
    { port: 0, idleTimeout, onError: w.onError },
    w.wrap(echo),
  );
  const port = server.addr.port;
  let stop = false;
  // Active clients: a round trip every 10 ms, for longer than idleTimeout.
  const others = Promise.all(
    Array.from(
      { length: 4 },
      (_, c) => healthy(port, `active${c}`, () => stop, 10),
    ),
  );
  const slow: Deno.TcpConn[] = [];
  try {
    const opened = performance.now();
    for (let i = 0; i < 10; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      slow.push(conn);
      // A header announcing 100 bytes, then 3 of them, then silence; or only
      // half of a header.
      const bytes = encodeFrame(new Uint8Array(100)).subarray(
        0,
        i % 2 === 0 ? 7 : 2,
      );
      await writeAll(conn, bytes);
    }
    // Each is closed by the server: the end of stream, nothing sent to it.
    const buffer = new Uint8Array(64);
    for (const conn of slow) {
      const n = await within(conn.read(buffer), 15_000, "the server to close");
      assertEquals(n, null);
    }
    const closedAfter = performance.now() - opened;
    // Never before idleTimeout (late is allowed: the machine may be busy).
    assert(closedAfter >= idleTimeout - 50, `closed after ${closedAfter} ms`);
  } finally {
    for (const conn of slow) conn.close();
  }
  stop = true;
  const rounds = await within(others, 20_000, "the active clients");
  for (const n of rounds) assert(n >= 3, `an active client did ${n} rounds`);
  await until(() => w.ended === 14, 10_000, "every handler to end");
  await within(server.shutdown(), 10_000, "shutdown");
  // The slow ones ended like a peer that went away; the active ones normally.
  assertEquals(w.outcomes.filter((o) => o === "ok").length, 4);
  assertEquals(w.outcomes.filter((o) => o === "ECLOSED").length, 10);
  assertEquals(w.errors, []);
});

/**
 * Waits until `progress()` (bytes a sender got accepted) is past the 1 MiB
 * high-water mark and has not moved for three polls 50 ms apart: the sender
 * is waiting on backpressure. Bounded: 20 s.
 */
async function stalled(progress: () => number, who: string): Promise<void> {
  let last = -1;
  let still = 0;
  for (let polls = 0; polls < 400 && still < 3; polls++) {
    await delay(50);
    const now = progress();
    still = now === last && now >= MiB ? still + 1 : 0;
    last = now;
  }
  assert(still >= 3, `${who} never stalled: ${progress()} bytes accepted`);
}

/** Frames of the backpressure test: [seq u32][offset u32] + POOL bytes at offset. */
const POOL = streamBytes(0, 2 * MiB);

function poolFrame(seq: number, offset: number, length: number): Uint8Array {
  const frame = new Uint8Array(8 + length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, seq);
  view.setUint32(4, offset);
  frame.set(POOL.subarray(offset, offset + length), 8);
  return frame;
}

/**
 * Allocates and drops frames like the tests' senders do, so the engine's heap
 * has grown to its working size before RSS is measured: what the tests then
 * see is what the stalled sender holds, not the heap's first growth.
 */
function warmUp(): void {
  let sum = 0;
  for (let i = 0; i < 24; i++) {
    const frame = encodeFrame(poolFrame(i, 0, MiB));
    sum += frame[frame.length - 1];
  }
  if (sum < 0) throw new Error("unreachable");
}

function checkPoolFrame(frame: Uint8Array, seq: number): number {
  assert(frame.length >= 8, `frame ${seq} is ${frame.length} bytes`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  assertEquals(view.getUint32(0), seq, "frames arrive in order, none lost");
  const offset = view.getUint32(4);
  const body = frame.subarray(8);
  const expected = POOL.subarray(offset, offset + body.length);
  assertEquals(expected.length, body.length, `frame ${seq} runs past the pool`);
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== expected[i]) {
      throw new Error(`frame ${seq}: byte ${i} is wrong`);
    }
  }
  return body.length;
}

Deno.test("faults: a peer that never reads: the handler's sends wait, memory stays bounded, then all 64 MiB arrive intact", async () => {
  const w = watch();
  const total = 64 * MiB;
  let accepted = 0;
  let frames = 0;
  warmUp();
  const rssBefore = Deno.memoryUsage().rss;
  const server = serve(
    { port: 0, onError: w.onError },
    w.wrap(async (socket) => {
      const next = random(7);
      for (let seq = 0; accepted < total; seq++) {
        // Mixed sizes: small (copied into the buffer), large (queued as they
        // are), some over the 1 MiB high-water mark.
        const kind = next(0, 9);
        const length = Math.min(
          total - accepted,
          kind < 5
            ? next(0, 2 * KiB)
            : kind < 8
            ? next(2 * KiB, 512 * KiB)
            : next(512 * KiB, 3 * MiB / 2),
        );
        const frame = poolFrame(seq, next(0, POOL.length - length), length);
        // Every 7th frame goes through send() of its encoded bytes instead.
        if (seq % 7 === 6) await socket.send(encodeFrame(frame));
        else await socket.sendFrame(frame);
        accepted += length;
        frames++;
      }
      await socket.flush();
    }),
  );
  // Our client reads nothing until told: a TcpSocket reads only when asked.
  await using client = await connect({ port: server.addr.port });
  client.timeout = 20_000;
  await stalled(() => accepted, "the handler");
  assert(accepted < 20 * MiB, `${accepted} bytes accepted with nobody reading`);
  const growth = Deno.memoryUsage().rss - rssBefore;
  assert(growth < 24 * MiB, `RSS grew by ${growth} bytes while stalled`);
  assertEquals(w.ended, 0, "the handler finished while nobody read");

  // Now read: every frame, in order, every byte.
  let seq = 0;
  let bytes = 0;
  for await (const frame of client.frames()) {
    bytes += checkPoolFrame(frame, seq++);
    if (bytes === total) break;
  }
  assertEquals(bytes, total);
  assertEquals(seq, frames);
  await until(() => w.ended === 1, 10_000, "the handler to end");
  assertEquals(await client.recvFrame(), null, "nothing after the last frame");
  await within(server.shutdown(), 10_000, "shutdown");
  assertEquals(w.outcomes, ["ok"]);
  assertEquals(w.errors, []);
});

Deno.test("faults: a peer that never reads, seen from a raw decoder: 64 MiB sent by a client with backpressure, verified", async () => {
  // The other direction: our client sends to a raw server that does not read.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await using client = await connect({ port: listener.addr.port });
    client.timeout = 20_000;
    const raw = await listener.accept();
    try {
      const total = 64 * MiB;
      let accepted = 0;
      let frames = 0;
      warmUp();
      const rssBefore = Deno.memoryUsage().rss;
      const sending = (async () => {
        const next = random(11);
        for (let seq = 0; accepted < total; seq++) {
          const length = Math.min(total - accepted, next(0, 1 * MiB));
          await client.sendFrame(
            poolFrame(seq, next(0, POOL.length - length), length),
          );
          accepted += length;
          frames++;
        }
        await client.flush();
      })();
      await stalled(() => accepted, "the sender");
      assert(accepted < 20 * MiB, `${accepted} bytes accepted, none read`);
      const growth = Deno.memoryUsage().rss - rssBefore;
      assert(growth < 24 * MiB, `RSS grew by ${growth} bytes while stalled`);
      assert(
        await isPending(sending),
        "the sends completed with nobody reading",
      );

      const decoder = new FrameDecoder(lengthPrefixed());
      const buffer = new Uint8Array(256 * KiB);
      let seq = 0;
      let bytes = 0;
      for (let reads = 0; bytes < total && reads < 1_000_000; reads++) {
        const n = await within(raw.read(buffer), 20_000, "a read");
        if (n === null) break;
        for (const frame of decoder.push(buffer.subarray(0, n))) {
          bytes += checkPoolFrame(frame, seq++);
        }
      }
      await within(sending, 20_000, "the sends once the peer read");
      assertEquals(bytes, total);
      assertEquals(seq, frames);
      assertEquals(decoder.buffered, 0);
      // And the peer's reply still gets through the same socket.
      await writeAll(raw, encodeFrame(utf8("thanks")));
      assertEquals(await client.recvFrame(), utf8("thanks"));
    } finally {
      raw.close();
    }
  } finally {
    listener.close();
  }
});
