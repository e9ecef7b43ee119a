// examples/chat_room.ts under a flood (issue #13, item 6): one member never
// reads while another sends 4 KiB lines for 2 s. The server runs as a child
// process with its header's flags; its memory is read from /proc. The room
// must drop the member that does not read, stay within 64 MiB of where it
// started, and give the member that reads every line, in order.

import { connect, delimited, FrameError } from "../../mod.ts";
import { assert, assertEquals, assertInstanceOf } from "../_helpers/assert.ts";
import { within } from "../_helpers/async.ts";
import { KiB, MiB, text, utf8 } from "../_helpers/bytes.ts";
import {
  ExampleProcess,
  freeTcpPort,
  memoryOf,
  runLines,
  substitute,
} from "../_helpers/examples.ts";

const FLOOD_MS = 2000;
/** A bound on the flood's length whatever the machine's speed. */
const MAX_LINES = 1_000_000;
/** The bound while a member does not read: the room must not queue for it. */
const RSS_LIMIT = 64 * MiB;
/**
 * The bound once only readers are left: a leak guard. The server then reads
 * ~250 MB/s of lines, and V8 frees the read buffers' memory lazily (it
 * collects external memory after ~64 MiB more), so 40-60 MiB is normal.
 */
const RSS_LEAK_LIMIT = 256 * MiB;
/** The room's line limit is 4 KiB; relayed lines gain "flooder: ". */
const framing = delimited({ maxFrameBytes: 8 * KiB });

/** A 4 KiB line that says its number. */
function floodLine(n: number): string {
  const head = `line ${n} `;
  return head + "x".repeat(4 * KiB - head.length);
}

Deno.test({
  name:
    "chat_room.ts under a flood: the member that never reads is dropped, the server stays under 64 MiB more, the reader gets every line",
  async fn() {
    const port = freeTcpPort();
    const run = (await runLines("examples/chat_room.ts"))
      .find((line) => line.args[0] === "server");
    assert(run, "chat_room.ts has a server Run line");
    await using server = new ExampleProcess(
      substitute(run.flags, port),
      run.script,
      [...substitute(run.args, port), "--port", String(port)],
    );
    await server.waitFor(/chat room listening on/);

    const join = async (name: string, here: string) => {
      const socket = await connect({ port, framing });
      socket.timeout = 20_000;
      await socket.sendFrame(utf8(name));
      assertEquals(
        text((await socket.recvFrame())!),
        `* welcome, ${name}; ${here}`,
      );
      return socket;
    };
    await using idle = await join("idle", "nobody else is here");
    await using reader = await join("reader", "here: idle");
    await using flooder = await join("flooder", "here: idle, reader");
    assertEquals(text((await reader.recvFrame())!), "* flooder joined");
    await server.waitFor(/^flooder joined/);
    const before = await memoryOf(server.pid, "VmRSS");

    // The reader checks each line as it comes; notices are kept apart.
    let received = 0;
    let wrong: string | undefined;
    const readerNotices: string[] = [];
    const reading = (async () => {
      for await (const bytes of reader.frames()) {
        const line = text(bytes);
        if (line.startsWith("* ")) readerNotices.push(line);
        else if (line === `flooder: ${floodLine(received)}`) received++;
        else wrong ??= `line ${received} came as ${line.slice(0, 40)}...`;
      }
    })();
    // Settled here so that a failure is reported where it is awaited below.
    reading.catch(() => {});
    const flooderNotices: string[] = [];
    const flooderReading = (async () => {
      for await (const bytes of flooder.frames()) {
        flooderNotices.push(text(bytes));
      }
    })();
    flooderReading.catch(() => {});

    // The flood, with the server's memory sampled as it goes: it stops early
    // once the server is over the limit.
    let sent = 0;
    let peak = before;
    const flood = async (ms: number, limit: number) => {
      const sampler = setInterval(() => {
        memoryOf(server.pid, "VmRSS").then((rss) => peak = Math.max(peak, rss))
          .catch(() => {});
      }, 50);
      try {
        const end = Date.now() + ms;
        while (
          Date.now() < end && sent < MAX_LINES && peak - before < limit
        ) {
          await flooder.sendFrame(utf8(floodLine(sent)));
          sent++;
        }
        await flooder.flush();
      } finally {
        clearInterval(sampler);
      }
      const growth = Math.max(peak, await memoryOf(server.pid, "VmHWM")) -
        before;
      console.log(
        `${sent} lines (${(sent / 256).toFixed(0)} MiB) flooded so far; ` +
          `server RSS ${(before / MiB).toFixed(1)} MiB before, ` +
          `grown by ${(growth / MiB).toFixed(1)} MiB at most`,
      );
      assert(
        growth < limit,
        `the server grew by ${(growth / MiB).toFixed(1)} MiB (limit ${
          limit / MiB
        })\n${server.describe()}`,
      );
    };
    /** Waits until the reader has every line sent so far, each checked. */
    const readerHasAll = async () => {
      const deadline = Date.now() + 30_000;
      while (received < sent && wrong === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assertEquals(wrong, undefined);
      assertEquals(
        received,
        sent,
        `the reader got every line\n${server.describe()}`,
      );
    };

    // 2 s with idle in the room: the room waits for it 5 s, then drops it.
    await flood(FLOOD_MS, RSS_LIMIT);
    await server.waitFor(
      /^idle left \(dropped: over 1048576 bytes behind for 5000 ms\)$/,
    );
    await readerHasAll();
    const beforeDrop = sent;
    // 2 s more at full speed: the flooder goes at the reader's pace.
    await flood(FLOOD_MS, RSS_LEAK_LIMIT);
    await readerHasAll();
    assert(
      sent - beforeDrop > 1000,
      `only ${sent - beforeDrop} lines were sent in ${FLOOD_MS} ms`,
    );

    // Those who stayed leave one after the other and hear it; the server
    // then stops cleanly.
    await flooder.closeWrite();
    await within(flooderReading, 10_000, "the flooder's loop to end");
    assertEquals(flooderNotices, ["* idle left"]);
    await server.waitFor(/^flooder left$/);
    await reader.closeWrite();
    await within(reading, 10_000, "the reader's loop to end");
    assertEquals(readerNotices, ["* idle left", "* flooder left"]);
    // idle got the flood's first lines, in order, then the end of the stream.
    assertEquals(text((await idle.recvFrame())!), "* reader joined");
    assertEquals(text((await idle.recvFrame())!), "* flooder joined");
    let owed = 0;
    try {
      for await (const bytes of idle.frames()) {
        assertEquals(text(bytes), `flooder: ${floodLine(owed)}`);
        owed++;
      }
    } catch (error) {
      // Destroyed while a write was under way: the end may cut a line.
      assertInstanceOf(error, FrameError);
      assertEquals(error.code, "INCOMPLETE_FRAME");
    }
    assert(owed < beforeDrop, `idle got ${owed} of ${beforeDrop} lines`);
    server.kill("SIGINT");
    assertEquals((await server.exit()).code, 0, server.describe());
    assert(server.lines.includes("stopped"), server.describe());
  },
});
