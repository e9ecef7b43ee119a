// examples/chat_room.ts under a flood (issue #20, item 4): one member never
// reads while another sends 4 KiB lines at a steady 2 MiB/s. The server runs
// as a child process with its header's flags; its memory is read from /proc.
// The room must drop the member that does not read as soon as its queue
// passes its bound (SendQ), never hold up the others' lines while it does,
// stay within 64 MiB of where it started, and give every member that keeps
// up every line, in order, including one that reads with pauses.

import {
  connect,
  delimited,
  FrameError,
  type StreamSocket,
} from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLess,
} from "../_helpers/assert.ts";
import { delay, within } from "../_helpers/async.ts";
import { KiB, MiB, text, utf8 } from "../_helpers/bytes.ts";
import {
  ExampleProcess,
  freeTcpPort,
  memoryOf,
  runLines,
  substitute,
} from "../_helpers/examples.ts";

/** The flood's pace: a 4 KiB line every 2 ms, 2 MiB/s. */
const LINE_EVERY_MS = 2;
/** The bound on the server's growth while the flood runs. */
const RSS_LIMIT = 64 * MiB;
/** The longest a line may take from the flooder to a member that reads. */
const MAX_LATENCY_MS = 1000;
/** The room's line limit is 4 KiB; relayed lines gain "flooder: ". */
const framing = delimited({ maxFrameBytes: 8 * KiB });

/** A 4 KiB line that says its number. */
function floodLine(n: number): string {
  const head = `line ${n} `;
  return head + "x".repeat(4 * KiB - head.length);
}

/** What a member that reads saw of the flood. */
interface Seen {
  /** The numbers of the flood lines, in the order they came. */
  numbers: number[];
  notices: string[];
  /** The longest any line took from its send to its arrival. */
  worstMs: number;
}

Deno.test({
  name:
    "chat_room.ts under a flood: the member that never reads is dropped at its SendQ bound without holding anyone up, the server stays under 64 MiB more, members that keep up get every line",
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
    const sentAt: number[] = [];
    /** Reads every line, pausing `pauseMs` after each `every` lines. */
    const watch = (
      socket: StreamSocket,
      pause?: { every: number; ms: number },
    ) => {
      const seen: Seen = { numbers: [], notices: [], worstMs: 0 };
      const done = (async () => {
        for await (const bytes of socket.frames()) {
          const line = text(bytes);
          if (line.startsWith("* ")) {
            seen.notices.push(line);
            continue;
          }
          const n = Number(/^flooder: line (\d+) /.exec(line)?.[1]);
          assertEquals(line, `flooder: ${floodLine(n)}`);
          seen.numbers.push(n);
          seen.worstMs = Math.max(seen.worstMs, Date.now() - sentAt[n]);
          if (pause && seen.numbers.length % pause.every === 0) {
            await delay(pause.ms);
          }
        }
      })();
      done.catch(() => {});
      return { seen, done };
    };

    await using idle = await join("idle", "nobody else is here");
    await using reader = await join("reader", "here: idle");
    await using flooder = await join("flooder", "here: idle, reader");
    assertEquals(text((await reader.recvFrame())!), "* flooder joined");
    await server.waitFor(/^flooder joined/);
    const before = await memoryOf(server.pid, "VmRSS");
    const readerSaw = watch(reader);
    const flooderSaw = watch(flooder);

    // The flood at a steady pace, the server's memory sampled as it goes.
    let sent = 0;
    let peak = before;
    const flood = async (ms: number) => {
      const sampler = setInterval(() => {
        memoryOf(server.pid, "VmRSS").then((rss) => peak = Math.max(peak, rss))
          .catch(() => {});
      }, 50);
      try {
        const start = Date.now();
        const end = start + ms;
        const base = sent;
        while (Date.now() < end && peak - before < RSS_LIMIT) {
          sentAt[sent] = Date.now();
          await flooder.sendFrame(utf8(floodLine(sent)));
          sent++;
          const due = start + (sent - base) * LINE_EVERY_MS;
          if (due > Date.now()) await delay(due - Date.now());
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
      assertLess(growth, RSS_LIMIT, server.describe());
    };
    /** Waits until `seen` has the flood's lines from `first` to the last sent. */
    const hasAllFrom = async (seen: Seen, first: number, who: string) => {
      const deadline = Date.now() + 30_000;
      while (seen.numbers.length < sent - first && Date.now() < deadline) {
        await delay(20);
      }
      assertEquals(
        seen.numbers,
        Array.from({ length: sent - first }, (_, i) => first + i),
        `${who} got every line in order\n${server.describe()}`,
      );
    };

    // 4 s (8 MiB) with idle in the room: idle is dropped once its queue
    // passes the bound, and the reader's lines never wait for it.
    await flood(4000);
    await server.waitFor(
      /^idle left \(dropped: over 1048576 bytes behind \(SendQ\)\)$/,
    );
    await hasAllFrom(readerSaw.seen, 0, "the reader");
    assertLess(readerSaw.seen.worstMs, MAX_LATENCY_MS, "a line waited");

    // A member that reads with pauses but keeps up with the room.
    await using slow = await join("slow", "here: reader, flooder");
    const first = sent;
    const slowSaw = watch(slow, { every: 20, ms: 10 });
    await flood(2000);
    assert(
      sent - first > 500,
      `only ${sent - first} lines in the second flood`,
    );
    await hasAllFrom(slowSaw.seen, first, "the slow reader");
    await hasAllFrom(readerSaw.seen, 0, "the reader");
    assertLess(readerSaw.seen.worstMs, MAX_LATENCY_MS, "a line waited");

    // Those who stayed leave one after the other and hear it; the server
    // then stops cleanly.
    await slow.closeWrite();
    await within(slowSaw.done, 10_000, "the slow reader's loop to end");
    await flooder.closeWrite();
    await within(flooderSaw.done, 10_000, "the flooder's loop to end");
    assertEquals(flooderSaw.seen.notices, [
      "* idle left",
      "* slow joined",
      "* slow left",
    ]);
    await server.waitFor(/^flooder left$/);
    await reader.closeWrite();
    await within(readerSaw.done, 10_000, "the reader's loop to end");
    assertEquals(readerSaw.seen.notices, [
      "* idle left",
      "* slow joined",
      "* slow left",
      "* flooder left",
    ]);
    assert(!server.lines.some((line) => line.startsWith("slow left (dropped")));
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
    assert(owed < first, `idle got ${owed} of ${first} lines`);
    server.kill("SIGINT");
    assertEquals((await server.exit()).code, 0, server.describe());
    assert(server.lines.includes("stopped"), server.describe());
  },
});
