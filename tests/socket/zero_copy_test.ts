// Zero-copy receives (DESIGN.md): recvInto over every transport, and
// borrowed frames whose memory the next receive reuses, against the default
// receives whose values stay intact.

import { lengthPrefixed } from "../../mod.ts";
import { assert, assertEquals, concat } from "../_helpers/assert.ts";
import { delay, isPending, settleOrder } from "../_helpers/async.ts";
import { text, utf8 } from "../_helpers/bytes.ts";
import {
  rawPair,
  socketError,
  socketPair,
  testOverTransports,
} from "../_helpers/sockets.ts";

/** Writes every byte of `bytes` to a raw connection. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

testOverTransports(
  "recvInto: a whole stream through one small target, in order",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    const sent = new Uint8Array(100_000).map((_, i) => i * 7);
    const sending = (async () => {
      await pair.client.send(sent);
      await pair.client.closeWrite();
    })();
    const target = new Uint8Array(1000);
    const parts: Uint8Array[] = [];
    for (let n; (n = await pair.peer.recvInto(target)) !== null;) {
      assert(n >= 1 && n <= target.length, `count ${n}`);
      parts.push(target.slice(0, n));
    }
    await sending;
    assertEquals(concat(parts), sent);
    // The end of the stream stays the end.
    assertEquals(await pair.peer.recvInto(target), null);
  },
);

testOverTransports(
  "recvInto: buffered bytes first, then the next read, then null",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    await pair.client.send("abcdef");
    assertEquals(text(await pair.peer.recvExactly(2)), "ab");
    await delay(20); // "cdef" is buffered by now or arrives with the next read
    const target = new Uint8Array(3);
    assertEquals(await pair.peer.recvInto(target), 3);
    assertEquals(text(target), "cde");
    assertEquals(await pair.peer.recvInto(target), 1);
    assertEquals(text(target.subarray(0, 1)), "f");
    await pair.client.send("gh");
    await pair.client.closeWrite();
    const wide = new Uint8Array(64);
    assertEquals(await pair.peer.recvInto(wide), 2);
    assertEquals(text(wide.subarray(0, 2)), "gh");
    assertEquals(await pair.peer.recvInto(wide), null);
  },
);

testOverTransports(
  "recvInto: with a timeout, nothing is lost (the bytes pass through the buffer)",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    const target = new Uint8Array(16);
    await socketError(pair.peer.recvInto(target, { timeout: 20 }), "ETIMEDOUT");
    await pair.client.send("late");
    assertEquals(await pair.peer.recvInto(target, { timeout: 5000 }), 4);
    assertEquals(text(target.subarray(0, 4)), "late");
  },
);

Deno.test("recvInto: in call order with the other receives", async () => {
  await using pair = await socketPair();
  const target = new Uint8Array(4);
  const first = pair.peer.recvExactly(3);
  const second = pair.peer.recvInto(target);
  const third = pair.peer.recv();
  assert(await isPending(first));
  assert(await isPending(second));
  await pair.client.send("abcdefghi");
  assertEquals(text(await first), "abc");
  const n = (await second)!;
  const rest = text((await third)!);
  const got = text(target.subarray(0, n));
  assert(n >= 1 && rest.length >= 1, `${n} then ${rest.length}`);
  assert("defghi".startsWith(got + rest), `${got} then ${rest}`);
});

Deno.test("recvInto: an empty target is 0 at once; a non-Uint8Array is a TypeError", async () => {
  await using pair = await socketPair();
  assertEquals(await pair.peer.recvInto(new Uint8Array(0)), 0);
  let error: unknown;
  try {
    await pair.peer.recvInto("nope" as unknown as Uint8Array);
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof TypeError);
  // The socket still works.
  await pair.client.send("x");
  const target = new Uint8Array(1);
  assertEquals(await pair.peer.recvInto(target), 1);
});

Deno.test("recvInto: close() rejects a call whose read goes straight into its target", async () => {
  await using pair = await socketPair();
  const pending = pair.peer.recvInto(new Uint8Array(8));
  await delay(10);
  pair.peer.close();
  await socketError(pending, "ECLOSED");
});

testOverTransports(
  "recvInto straight into its target: later calls wait behind it and settle after it",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    const target = new Uint8Array(64);
    // Nothing buffered, nobody ahead, no deadline: the read goes into target.
    const into = pair.peer.recvInto(target);
    const nothing = pair.peer.recvExactly(0);
    const rest = pair.peer.recv();
    assert(await isPending(nothing), "recvExactly(0) waits its turn");
    const order = settleOrder({ into, nothing, rest });
    await pair.client.send("abc");
    await delay(20);
    await pair.client.send("def");
    assertEquals(await order, ["into", "nothing", "rest"]);
    const n = (await into)!;
    assertEquals(
      text(target.subarray(0, n)) + text((await rest)!),
      "abcdef".slice(0, n + (await rest)!.length),
    );
    assertEquals((await nothing).length, 0);
  },
);

testOverTransports(
  "recvInto straight into its target: the end of the stream reaches it, then the calls behind it",
  async (transport) => {
    await using pair = await socketPair({}, {}, transport);
    const into = pair.peer.recvInto(new Uint8Array(8));
    const frame = pair.peer.recvFrame();
    const order = settleOrder({ into, frame });
    await pair.client.closeWrite();
    assertEquals(await order, ["into", "frame"]);
    assertEquals(await into, null);
    assertEquals(await frame, null);
  },
);

Deno.test("recvInto straight into its target: close() settles it and the calls behind it at once, in order", async () => {
  await using pair = await socketPair();
  const into = pair.peer.recvInto(new Uint8Array(8));
  const after = pair.peer.recvInto(new Uint8Array(8));
  const timed = pair.peer.recv(16, { timeout: 60_000 });
  const order = settleOrder({ into, after, timed });
  pair.peer.close();
  assertEquals(await order, [
    "into rejected",
    "after rejected",
    "timed rejected",
  ]);
  await socketError(into, "ECLOSED");
  await socketError(after, "ECLOSED");
  await socketError(timed, "ECLOSED");
});

Deno.test("recvInto straight into its target: a call behind it that times out loses nothing", async () => {
  await using pair = await socketPair();
  const target = new Uint8Array(4);
  const into = pair.peer.recvInto(target);
  await socketError(pair.peer.recv(16, { timeout: 20 }), "ETIMEDOUT");
  assert(await isPending(into));
  await pair.client.send("wxyz");
  await pair.client.send("more");
  const n = (await into)!;
  const got = text(target.subarray(0, n)) +
    text(await pair.peer.recvExactly(8 - n));
  assertEquals(got, "wxyzmore");
});

testOverTransports(
  "recvFrameBorrowed: the value changes after the next receive (the rule is real)",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const framing = lengthPrefixed();
    await writeAll(pair.raw, framing.encode(utf8("AAAA")));
    const first = await pair.client.recvFrameBorrowed();
    assertEquals(text(first!), "AAAA");
    await writeAll(pair.raw, framing.encode(utf8("BBBB")));
    const second = await pair.client.recvFrameBorrowed();
    assertEquals(text(second!), "BBBB");
    // The socket's buffer was empty and lent to nobody: the second read went
    // into the same memory, under the first value.
    assertEquals(text(first!), "BBBB");
  },
);

testOverTransports(
  "framesBorrowed: each frame is reused by the next step",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const framing = lengthPrefixed();
    const seen: Uint8Array[] = [];
    const copies: string[] = [];
    const words = ["one1", "two2", "six6"];
    // Each frame is sent once the loop holds the one before: one read each.
    await writeAll(pair.raw, framing.encode(utf8(words[0])));
    for await (const frame of pair.client.framesBorrowed()) {
      seen.push(frame);
      copies.push(text(frame));
      if (seen.length === words.length) break;
      await writeAll(pair.raw, framing.encode(utf8(words[seen.length])));
    }
    assertEquals(copies, ["one1", "two2", "six6"]);
    assertEquals(seen.map(text), ["six6", "six6", "six6"]);
  },
);

testOverTransports(
  "the default receives never change a value they returned",
  async (transport) => {
    await using pair = await rawPair({}, undefined, transport);
    const framing = lengthPrefixed();
    const kept: Uint8Array[] = [];
    for (const word of ["AAAA", "BBBB", "CCCC", "DDDD"]) {
      await writeAll(pair.raw, framing.encode(utf8(word)));
      kept.push((await pair.client.recvFrame())!);
    }
    await writeAll(pair.raw, utf8("EEEEFFFF"));
    kept.push((await pair.client.recvExactly(4))!);
    kept.push((await pair.client.recv())!);
    const target = new Uint8Array(4);
    await writeAll(pair.raw, utf8("GGGG"));
    await pair.client.recvInto(target);
    await writeAll(pair.raw, framing.encode(utf8("HHHH")));
    await pair.client.recvFrameBorrowed();
    await writeAll(pair.raw, framing.encode(utf8("IIII")));
    for await (const _ of pair.client.frames()) break;
    assertEquals(kept.map(text), [
      "AAAA",
      "BBBB",
      "CCCC",
      "DDDD",
      "EEEE",
      "FFFF",
    ]);
  },
);

Deno.test("recvFrameBorrowed: null at a clean end, INCOMPLETE_FRAME inside a frame", async () => {
  await using pair = await rawPair();
  await writeAll(pair.raw, new Uint8Array([0, 0, 0, 2, 9, 9, 0, 0]));
  await pair.raw.closeWrite();
  assertEquals([...(await pair.client.recvFrameBorrowed())!], [9, 9]);
  const error = await pair.client.recvFrameBorrowed().catch((e) => e);
  assertEquals(error.code, "INCOMPLETE_FRAME");
});
