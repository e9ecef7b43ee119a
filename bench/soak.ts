// Soak/load test (issue #7, item 3): N clients hold N connections to a
// serve() echo server in this process and exchange length-prefixed frames of
// random sizes (up to 1 MiB) for a bounded time. Every echoed frame is checked
// against what was sent: its connection and sequence number (none lost,
// duplicated or reordered), its length, and every byte of its body (compared
// with the sent bytes). It prints the connections held, frames and bytes
// verified, errors by code, peak RSS, and exits 1 if any frame was lost or
// corrupted or any error was not a SocketError or FrameError with a code.
//
//   deno task soak                                   # 1,000 connections, 30 s
//   deno task soak --connections 200 --seconds 10
//   deno run --allow-net=127.0.0.1 bench/soak.ts --help
//
// File descriptors: both ends live in this process, so N connections need
// about 2N descriptors (plus a few). Check `ulimit -n` first; 1,000
// connections need it to be at least ~2,100. Past the limit, connects and
// accepts fail with EMFILE (counted under "errors by code").
//
// Memory: each socket keeps a read buffer of up to 64 KiB once it has read
// (more while a large frame arrives), and frames in flight are held by both
// ends: expect on the order of 1 GiB of RSS for 1,000 connections with 1 MiB
// frames.

import { parseArgs } from "@std/cli/parse-args";
import { Buffer } from "node:buffer";
import {
  connect,
  FrameError,
  lengthPrefixed,
  serve,
  SocketError,
  type StreamSocket,
} from "../mod.ts";
import { randomSeed, Rng } from "../tests/_helpers/random.ts";

const USAGE = `Usage: deno task soak [options]
  (deno run --allow-net=127.0.0.1 bench/soak.ts [options])

  --connections N   clients, each holding one connection (default 1000)
  --seconds S       how long the clients send frames (default 30)
  --max-frame B     the largest frame payload in bytes (default 1048576)
  --window W        frames each client may have in flight (default 1)
  --seed N          seed of the frame sizes (default: random, printed)
  --help            show this help`;

const HEADER = 12; // [connection u32][seq u32][pool offset u32]
const POOL_BYTES = 4 * 1024 * 1024;

interface Options {
  connections: number;
  seconds: number;
  maxFrame: number;
  window: number;
  seed: number;
}

function options(): Options {
  const args = parseArgs(Deno.args, {
    string: ["connections", "seconds", "max-frame", "window", "seed"],
    boolean: ["help"],
    unknown: (arg: string) => {
      console.error(`soak: unknown argument ${arg}\n\n${USAGE}`);
      Deno.exit(2);
    },
  }) as Record<string, string | boolean | undefined>;
  if (args.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const int = (name: string, fallback: number, min: number, max: number) => {
    const text = args[name];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      console.error(
        `soak: --${name} must be an integer from ${min} to ${max}, got ${text}`,
      );
      Deno.exit(2);
    }
    return value;
  };
  return {
    connections: int("connections", 1000, 1, 20_000),
    seconds: int("seconds", 30, 1, 3600),
    maxFrame: int("max-frame", 1024 * 1024, HEADER, 16 * 1024 * 1024),
    window: int("window", 1, 1, 64),
    seed: int("seed", randomSeed() >>> 1, 0, 2 ** 31),
  };
}

/** Floats in [0, 1) from the tests' seeded generator. */
function generator(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

/** Random bytes every frame body is cut from. */
function makePool(): Uint8Array {
  const pool = new Uint8Array(POOL_BYTES);
  for (let at = 0; at < pool.length; at += 65536) {
    crypto.getRandomValues(pool.subarray(at, at + 65536));
  }
  return pool;
}

/** What the run saw; printed at the end. */
class Tally {
  held = 0;
  peakHeld = 0;
  framesSent = 0;
  framesVerified = 0;
  bytesVerified = 0;
  corrupt = 0;
  lost = 0;
  /** Errors by code: SocketError/FrameError codes, or UNEXPECTED:... */
  errors: Record<string, number> = {};
  firstErrors: string[] = [];
  unexpected = 0;
  serverErrors = 0;
  peakRss = 0;

  error(where: string, error: unknown): void {
    let code: string;
    if (
      (error instanceof SocketError || error instanceof FrameError) &&
      typeof error.code === "string" && (error.code as string) !== ""
    ) {
      code = error.code;
    } else {
      code = `UNEXPECTED:${(error as Error)?.name ?? typeof error}`;
      this.unexpected++;
    }
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    if (this.firstErrors.length < 10) {
      this.firstErrors.push(`${where}: ${code}: ${(error as Error)?.message}`);
    }
  }
}

/** A frame the client sent and expects back. */
interface Sent {
  seq: number;
  offset: number;
  length: number;
}

/**
 * One client: sends frames (at most `window` unanswered) until `deadline`,
 * then half-closes and reads the rest of the echoes; checks each one.
 */
async function runClient(
  socket: StreamSocket,
  id: number,
  pool: Uint8Array,
  poolBuffer: Buffer,
  random: () => number,
  options: Options,
  start: Promise<void>,
  deadline: () => number,
  tally: Tally,
): Promise<void> {
  const expected: Sent[] = []; // Sent, not yet echoed: at most `window`.
  let failed = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  const receiving = (async () => {
    try {
      for (;;) {
        const frame = await socket.recvFrame();
        if (frame === null) break;
        const want = expected.shift();
        const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
        const ok = want !== undefined &&
          frame.length === want.length &&
          view.getUint32(0) === id &&
          view.getUint32(4) === want.seq &&
          view.getUint32(8) === want.offset &&
          Buffer.from(
            frame.buffer,
            frame.byteOffset + HEADER,
            frame.length - HEADER,
          )
            .equals(
              poolBuffer.subarray(
                want.offset,
                want.offset + want.length - HEADER,
              ),
            );
        if (!ok) {
          tally.corrupt++;
          failed = true;
          socket.destroy();
          break;
        }
        tally.framesVerified++;
        tally.bytesVerified += frame.length;
        wakeUp();
      }
    } catch (error) {
      failed = true;
      tally.error(`client ${id} receiving`, error);
    } finally {
      wakeUp();
    }
  })();

  try {
    await start;
    const maxBody = options.maxFrame - HEADER;
    for (let seq = 0; performance.now() < deadline() && !failed; seq++) {
      while (expected.length >= options.window && !failed) {
        await new Promise<void>((resolve) => wake = resolve);
      }
      if (failed) break;
      // Log-uniform sizes: as many frames under 1 KiB as from 512 KiB up.
      const body = Math.min(
        maxBody,
        Math.floor(2 ** (random() * Math.log2(maxBody + 1))),
      );
      const offset = Math.floor(random() * (pool.length - body));
      const frame = new Uint8Array(HEADER + body);
      const view = new DataView(frame.buffer);
      view.setUint32(0, id);
      view.setUint32(4, seq);
      view.setUint32(8, offset);
      frame.set(pool.subarray(offset, offset + body), HEADER);
      expected.push({ seq, offset, length: frame.length });
      await socket.sendFrame(frame);
      tally.framesSent++;
    }
    if (!failed) await socket.closeWrite();
  } catch (error) {
    failed = true;
    tally.error(`client ${id} sending`, error);
    socket.destroy();
  }
  await receiving;
  // A clean end of stream with frames still unanswered: they were lost.
  if (!failed) tally.lost += expected.length;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

async function main(): Promise<number> {
  const opts = options();
  const tally = new Tally();
  const pool = makePool();
  const poolBuffer = Buffer.from(pool.buffer, pool.byteOffset, pool.length);
  const started = performance.now();
  const sample = () => {
    tally.peakRss = Math.max(tally.peakRss, Deno.memoryUsage().rss);
  };
  const sampler = setInterval(sample, 100);

  console.log(
    `soak: ${opts.connections} connections, ${opts.seconds} s, frames up to ${opts.maxFrame} bytes, window ${opts.window}, seed ${opts.seed}`,
  );

  // The server: echo every frame back, until the client's end.
  let handlersEnded = 0;
  const server = serve({
    port: 0,
    backlog: Math.max(128, opts.connections),
    framing: lengthPrefixed({ maxFrameBytes: opts.maxFrame }),
    shutdownTimeout: 10_000,
    onError: (error) => {
      tally.serverErrors++;
      tally.error("server", error);
    },
  }, async (socket) => {
    try {
      for await (const frame of socket.frames()) await socket.sendFrame(frame);
    } finally {
      handlersEnded++;
    }
  });

  // Phase 1: connect everyone (100 at a time), so all are held at once.
  const framing = lengthPrefixed({ maxFrameBytes: opts.maxFrame });
  const sockets: StreamSocket[] = [];
  for (let first = 0; first < opts.connections; first += 100) {
    const batch = Array.from(
      { length: Math.min(100, opts.connections - first) },
      async () => {
        try {
          const socket = await connect({
            port: server.addr.port,
            timeout: 30_000,
            framing,
          });
          socket.timeout = 60_000; // A stalled echo is ETIMEDOUT, not a hang.
          sockets.push(socket);
          tally.peakHeld = Math.max(tally.peakHeld, ++tally.held);
        } catch (error) {
          tally.error("connect", error);
        }
      },
    );
    await Promise.all(batch);
  }
  const connectedAt = performance.now();
  console.log(
    `connected ${sockets.length} of ${opts.connections} in ${
      ((connectedAt - started) / 1000).toFixed(1)
    } s`,
  );

  // Phase 2: everyone sends and checks until the deadline.
  let go!: () => void;
  const start = new Promise<void>((resolve) => go = resolve);
  let deadline = Infinity;
  const clients = sockets.map((socket, id) =>
    runClient(
      socket,
      id,
      pool,
      poolBuffer,
      generator(opts.seed + id + 1),
      opts,
      start,
      () => deadline,
      tally,
    ).finally(() => {
      socket.close();
      tally.held--;
    })
  );
  const trafficStart = performance.now();
  deadline = trafficStart + opts.seconds * 1000;
  go();
  const progress = setInterval(() => {
    const elapsed = (performance.now() - trafficStart) / 1000;
    console.log(
      `${
        elapsed.toFixed(0).padStart(4)
      } s: ${tally.held} held, ${tally.framesVerified} frames, ${
        mib(tally.bytesVerified)
      } MiB verified, RSS ${mib(Deno.memoryUsage().rss)} MiB`,
    );
  }, 5000);

  // Bounded: clients that are still busy long after the deadline are a hang.
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => {
    watchdog = setTimeout(() => resolve("hung"), opts.seconds * 1000 + 120_000);
  });
  const outcome = await Promise.race([
    Promise.all(clients).then(() => "done" as const),
    hung,
  ]);
  clearTimeout(watchdog);
  clearInterval(progress);
  const trafficEnd = performance.now();
  if (outcome === "hung") {
    tally.errors["HUNG"] = tally.held;
    for (const socket of sockets) socket.destroy();
  }
  await server.shutdown();
  sample();
  clearInterval(sampler);

  const seconds = (trafficEnd - trafficStart) / 1000;
  const errorCount = Object.values(tally.errors).reduce((a, b) => a + b, 0);
  const lines = [
    ["connections requested", `${opts.connections}`],
    ["connections held at once", `${tally.peakHeld}`],
    ["traffic duration", `${seconds.toFixed(1)} s`],
    ["frames sent", `${tally.framesSent}`],
    ["frames verified", `${tally.framesVerified}`],
    [
      "bytes verified",
      `${tally.bytesVerified} (${mib(tally.bytesVerified)} MiB, ${
        mib(tally.bytesVerified / seconds)
      } MiB/s echoed)`,
    ],
    ["frames/s", `${(tally.framesVerified / seconds).toFixed(0)}`],
    ["frames lost", `${tally.lost}`],
    ["frames corrupted", `${tally.corrupt}`],
    [
      "errors by code",
      errorCount === 0 ? "none" : JSON.stringify(tally.errors),
    ],
    ["server handlers ended", `${handlersEnded}`],
    ["peak RSS (sampled)", `${mib(tally.peakRss)} MiB`],
    [
      "total run time",
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
    ],
  ];
  console.log("\nsoak summary");
  for (const [name, value] of lines) {
    console.log(`  ${name.padEnd(26)} ${value}`);
  }
  for (const line of tally.firstErrors) console.log(`  first errors: ${line}`);

  // On loopback nothing should fail at all: any error, even a coded one,
  // fails the run (after being counted above).
  const intact = tally.lost === 0 && tally.corrupt === 0;
  const clean = intact && errorCount === 0 && outcome === "done" &&
    tally.framesVerified === tally.framesSent;
  console.log(
    clean
      ? "\nPASS: every frame sent was echoed and verified; no errors"
      : `\nFAIL: ${intact ? "errors (see above)" : "frames lost or corrupted"}${
        tally.unexpected > 0 ? "; errors without a code" : ""
      }`,
  );
  return clean ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
