// End-to-end benchmarks: this module against raw Deno.Conn (and Node's net),
// side by side in one run. Each variant runs as separate server and client
// processes on 127.0.0.1 (or one process, for the "-inproc" cases), variants
// alternate within each round (A B A B ...), and the summary gives medians
// and the median over rounds of each variant's speed relative to its
// baseline in the same round. Where a target was missed, a "floor" variant
// (bench/_floor.ts) shows the least any code following the same rules costs.
//
//   deno task bench:net                      # every case, 5 rounds
//   deno task bench:net --cases echo,udp --rounds 3
//   deno task bench:net --cases bulk-unix --variants into,floor-queued
//   BULK_WARMUP_MB=256 deno task bench:net --cases bulk   # steady state
//   SCALE=0.1 deno task bench:net            # a tenth of the work, for a quick look

import { parseArgs } from "@std/cli/parse-args";

interface Variant {
  name: string;
  /** The process(es) to run; "both" means one process plays both sides. */
  mode: "pair" | "both";
  /**
   * Who runs it: "node" runs bench/node_small.mjs on both sides,
   * "node-server" only on the server's (the case's Deno client drives it).
   */
  program: "deno" | "node" | "node-server";
  variant: string;
  peerCase?: string;
}

interface Case {
  name: string;
  baseline: string;
  metric: string;
  variants: Variant[];
  note: string;
  /** Which process prints the result; default the client. */
  reporter?: "server" | "client";
  /**
   * Each variant's floor (bench/_floor.ts: what any code keeping the module's
   * rules reaches), reported beside the baseline ratio; default: "ours"
   * against "floor" where the case has one.
   */
  floors?: Record<string, string>;
  /**
   * The server also prints a JSON line (its CPU per unit of work) after the
   * client's result; it joins the client's figures, and the summary shows
   * this one of them.
   */
  serverFigure?: string;
}

const pair = (variant: string, peerCase?: string): Variant => ({
  name: variant,
  mode: "pair",
  program: "deno",
  variant,
  peerCase,
});
/** Node's net server run by Node (bench/node_small.mjs), driven by the case's Deno client. */
const nodeServer: Variant = {
  name: "node",
  mode: "pair",
  program: "node-server",
  variant: "raw",
};
const both = (variant: string, peerCase: string): Variant => ({
  name: variant,
  mode: "both",
  program: "deno",
  variant,
  peerCase,
});

/**
 * Every bulk case's variants: raw, ours, the floor, the zero-copy receives
 * and their floor ("floor-queued": frames copied and queued up to the 1 MiB
 * mark as `sendFrame`'s are, and a receive promise per call that close() can
 * settle), "floor-into" (the floor's copy-write-await sender into a raw read
 * loop) and "raw-into": the raw sender into `recvInto`, the receive alone.
 */
const bulkVariants = () =>
  [
    "raw",
    "ours",
    "floor",
    "into",
    "borrow",
    "floor-into",
    "floor-queued",
    "raw-into",
  ].map((name) => pair(name));
/** The zero-copy receives against the floor of their rules, the rest against the default floor. */
const bulkFloors = {
  ours: "floor",
  into: "floor-queued",
  borrow: "floor-queued",
};

const CASES: Case[] = [
  {
    name: "bulk",
    baseline: "raw",
    metric: "mbPerSecond",
    variants: bulkVariants(),
    floors: bulkFloors,
    note:
      "1 GiB in 64 KiB frames: sendFrame/frames() vs conn.write/conn.read; into: recvInto one buffer; borrow: framesBorrowed(); raw-into: the raw sender into recvInto",
  },
  {
    name: "small",
    baseline: "raw",
    metric: "framesPerSecond",
    variants: [pair("raw"), pair("ours"), pair("floor"), {
      name: "node",
      mode: "pair",
      program: "node",
      variant: "node",
    }],
    note:
      "1M x 32 B frames, await sendFrame per frame + frames() vs hand-batched 64 KiB writes + hand decoder; node: socket.write per frame",
  },
  {
    name: "user-framing",
    baseline: "ours",
    metric: "framesPerSecond",
    variants: [pair("ours", "small"), pair("user", "small")],
    note:
      "as small and batch, with a length-prefix framing written with only encode/decode (user) vs the built-in lengthPrefixed() (ours)",
  },
  {
    name: "user-framing-batch",
    baseline: "ours",
    metric: "framesPerSecond",
    variants: [both("ours", "batch"), both("user", "batch")],
    note: "as batch-inproc, user-written framing vs built-in",
  },
  {
    name: "small-inproc",
    baseline: "raw",
    metric: "framesPerSecond",
    variants: [both("raw", "small"), both("ours", "small")],
    note: "as small, client and server in one process",
  },
  {
    name: "batch-inproc",
    baseline: "raw",
    metric: "framesPerSecond",
    variants: [
      both("raw", "batch"),
      both("ours", "batch"),
      both("floor", "batch"),
    ],
    note:
      "sendFrames(1024 frames) per call + recvFrames() vs hand-batched writes + hand decoder, one process",
  },
  {
    name: "echo",
    baseline: "raw",
    metric: "tripsPerSecond",
    variants: [pair("raw"), pair("ours")],
    note: "100k framed 32 B round trips over one connection",
  },
  {
    name: "echo-tls",
    baseline: "raw",
    metric: "tripsPerSecond",
    variants: [pair("raw"), pair("ours")],
    note:
      "as echo, over TLS: connect/listen({ tls }) vs Deno.connectTls/Deno.listenTls",
  },
  {
    name: "bulk-tls",
    baseline: "raw",
    metric: "mbPerSecond",
    variants: bulkVariants(),
    floors: bulkFloors,
    note:
      "as bulk, over TLS: connect/listen({ tls }) vs Deno.connectTls/Deno.listenTls",
  },
  {
    name: "echo-unix",
    baseline: "raw",
    metric: "tripsPerSecond",
    variants: [pair("raw"), pair("ours")],
    note:
      "as echo, over a Unix socket: connect/listen({ path }) vs raw Unix Deno.Conn",
  },
  {
    name: "bulk-unix",
    baseline: "raw",
    metric: "mbPerSecond",
    variants: bulkVariants(),
    floors: bulkFloors,
    note:
      "as bulk, over a Unix socket: connect/listen({ path }) vs raw Unix Deno.Conn",
  },
  {
    name: "concurrency",
    baseline: "raw",
    metric: "tripsPerSecond",
    variants: [pair("raw"), pair("ours"), pair("floor"), nodeServer],
    note:
      "500 connections x 200 round trips: serve() vs a raw Deno.listen loop; node: Node's net server run by Node, one socket.write per frame (the same Deno client for all); serverCpu: the server process's CPU per round trip in µs (lower is better)",
    serverFigure: "serverCpuMicrosPerTrip",
  },
  {
    name: "connections",
    baseline: "raw",
    metric: "connectionsPerSecond",
    variants: [pair("raw"), pair("ours"), pair("floor"), nodeServer],
    note:
      "20,000 short connections, 50 at a time, each one 32-byte framed round trip then closed (a server of one request per connection): serve() vs a raw Deno.listen loop reading into a 1 KiB buffer; floor: that loop with bench/_floor.ts's reader and writer; node: Node's net server run by Node; serverCpu: the server process's CPU per connection in µs (lower is better)",
    serverFigure: "serverCpuMicrosPerConnection",
  },
  {
    name: "udp",
    baseline: "raw",
    metric: "receivedPerSecond",
    variants: [pair("raw"), pair("ours")],
    note: "500k x 64 B datagrams: UdpSocket vs Deno.listenDatagram",
  },
  {
    name: "workers",
    baseline: "w1",
    metric: "cpuMicrosPerTrip",
    variants: [
      pair("serve"),
      pair("w1"),
      pair("w2"),
      pair("raw1"),
      pair("raw2"),
    ],
    note:
      "server CPU per round trip (all threads; lower is better) for the concurrency case's 500 connections x 200 round trips: serve() in the main thread, serveWorkers with 1 and 2 workers, the raw echo loop in 1 and 2 reusePort workers (raw1, raw2: the runtime's own cost of a second thread); minShare: the smallest share of connections a worker took",
    reporter: "server",
  },
  {
    name: "idle",
    baseline: "raw",
    metric: "kibPerConnection",
    variants: [pair("raw"), pair("raw64k"), pair("ours")],
    note:
      "server memory per idle connection (5,000 connections, each sent one frame; lower is better): serve() vs a raw accept loop reading into 1 KiB (raw) or 64 KiB (raw64k)",
    reporter: "server",
  },
  {
    name: "webstreams",
    baseline: "raw",
    metric: "framesPerSecond",
    variants: [pair("raw"), pair("ours"), pair("floor")],
    note:
      "1M x 32 B frames: pipeThrough(EncoderStream).pipeTo(conn.writable) + conn.readable.pipeThrough(DecoderStream) vs one await writer.write(frame) per frame + a hand-written TransformStream decoder",
  },
  {
    name: "webstreams-write",
    baseline: "raw",
    metric: "framesPerSecond",
    variants: [pair("raw"), pair("ours"), pair("floor")],
    note:
      "1M x 32 B values, a loop of await writer.write(value): into an EncoderStream piped to conn.writable (ours) vs encoded frames straight to conn.writable (raw) vs a hand-written sink packing 64 KiB writes (floor); the same hand-written receiver",
  },
  {
    name: "proxy-echo",
    baseline: "raw",
    metric: "tripsPerSecond",
    variants: [pair("raw"), pair("ours"), pair("floor")],
    note:
      "as echo (raw client and server), through a forwarder in the server's process: wire's proxy (startProxy, each frame's log line formatted, then dropped) vs a hand-written Deno.Conn forwarder",
  },
  {
    name: "proxy-bulk",
    baseline: "raw",
    metric: "mbPerSecond",
    variants: [pair("raw"), pair("ours"), pair("floor")],
    note:
      "as bulk (raw client and sink), through the same two forwarders as proxy-echo",
  },
];

const here = new URL(".", import.meta.url).pathname;
const PEER = `${here}net_peer.ts`;
const NODE_PEER = `${here}node_small.mjs`;
/** The Unix socket of the -unix cases: net_peer.ts names it by our pid. */
const UNIX_PATH = `/tmp/wire-bench-${Deno.pid}.sock`;
const DENO_FLAGS = [
  "run",
  `--allow-net=127.0.0.1,unix:${UNIX_PATH}`,
  // The -tls cases read the test certificates; the -unix ones use UNIX_PATH.
  // The workers case's workers load the library and their handler as files.
  `--allow-read=${new URL("..", import.meta.url).pathname},${UNIX_PATH}`,
  `--allow-write=${UNIX_PATH}`,
  "--allow-env=SCALE,FLOOR_READ,BULK_WARMUP_MB",
  "--unstable-net",
  // The idle case measures memory after a garbage collection.
  "--v8-flags=--expose-gc",
];
const TIME_LIMIT_MS = 300_000;

function command(
  variant: Variant,
  caseName: string,
  role: string,
  port?: number,
) {
  const rest = port === undefined ? [] : [String(port)];
  if (
    variant.program === "node" ||
    (variant.program === "node-server" && role === "server")
  ) {
    const nodeRole = variant.program === "node" ? role : `${caseName}-${role}`;
    return new Deno.Command("node", {
      args: [NODE_PEER, nodeRole, ...rest],
      stdout: "piped",
      stderr: "inherit",
    });
  }
  return new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_FLAGS,
      PEER,
      variant.peerCase ?? caseName,
      variant.variant,
      role,
      ...rest,
    ],
    stdout: "piped",
    stderr: "inherit",
  });
}

/** Reads stdout lines until `match` returns a value. */
async function readUntil<T>(
  lines: AsyncIterator<string>,
  match: (line: string) => T | undefined,
): Promise<T> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error("the process ended without the expected line");
    const found = match(value);
    if (found !== undefined) return found;
  }
}

async function* splitLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let carry = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    carry += text;
    const parts = carry.split("\n");
    carry = parts.pop()!;
    yield* parts;
  }
  if (carry) yield carry;
}

const parseResult = (line: string) =>
  line.startsWith("{") ? JSON.parse(line) as Record<string, number> : undefined;

/** Kills `child` if it is still running after `ms`; returns a canceller. */
function killAfter(child: Deno.ChildProcess, ms: number): () => void {
  const timer = setTimeout(() => {
    try {
      child.kill();
    } catch {
      // Already exited.
    }
  }, ms);
  return () => clearTimeout(timer);
}

async function runOnce(
  kase: Case,
  variant: Variant,
): Promise<Record<string, number>> {
  if (variant.mode === "both") {
    const child = command(variant, kase.name, "both").spawn();
    const cancel = killAfter(child, TIME_LIMIT_MS);
    try {
      return await readUntil(
        splitLines(child.stdout)[Symbol.asyncIterator](),
        parseResult,
      );
    } finally {
      await child.status;
      cancel();
    }
  }
  const server = command(variant, kase.name, "server").spawn();
  const cancelServer = killAfter(server, TIME_LIMIT_MS);
  const serverLines = splitLines(server.stdout)[Symbol.asyncIterator]();
  try {
    const port = await readUntil(serverLines, (line) => {
      const m = line.match(/^PORT (\d+)$/);
      return m ? Number(m[1]) : undefined;
    });
    const client = command(variant, kase.name, "client", port).spawn();
    const cancelClient = killAfter(client, TIME_LIMIT_MS);
    try {
      const result = await readUntil(
        kase.reporter === "server"
          ? serverLines
          : splitLines(client.stdout)[Symbol.asyncIterator](),
        parseResult,
      );
      if (kase.serverFigure === undefined) return result;
      return { ...result, ...await readUntil(serverLines, parseResult) };
    } finally {
      await client.status;
      cancelClient();
    }
  } finally {
    // Drain the server's output so it can exit, then give it 10 s.
    const drained = (async () => {
      while (!(await serverLines.next()).done) { /* discard */ }
    })();
    const stop = killAfter(server, 10_000);
    await server.status;
    await drained;
    stop();
    cancelServer();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const format = (n: number) =>
  n >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3);

if (import.meta.main) {
  const args: { cases?: string; variants?: string; rounds?: number } =
    parseArgs(Deno.args, {
      string: ["cases", "variants"],
      default: { rounds: 5 },
    });
  const wanted = args.cases?.split(",") ?? CASES.map((c) => c.name);
  // --variants: only these and the baseline (a floor is compared if it ran).
  const only = args.variants?.split(",");
  const rounds = Number(args.rounds);
  console.log(
    `# ${
      new Date().toISOString().slice(0, 10)
    }, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, SCALE=${
      Deno.env.get("SCALE") ?? 1
    }, ${rounds} rounds`,
  );
  const summary: string[] = [];
  for (const every of CASES.filter((c) => wanted.includes(c.name))) {
    const kase = only === undefined ? every : {
      ...every,
      variants: every.variants.filter((v) =>
        v.name === every.baseline || only.includes(v.name)
      ),
    };
    console.log(`\n## ${kase.name}: ${kase.note}`);
    const results = new Map<string, Record<string, number>[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const variant of kase.variants) {
        const result = await runOnce(kase, variant);
        results.set(variant.name, [
          ...(results.get(variant.name) ?? []),
          result,
        ]);
        console.log(
          `round ${round} ${variant.name.padEnd(5)} ${
            Object.entries(result).map(([k, v]) => `${k}=${format(v)}`).join(
              " ",
            )
          }`,
        );
      }
    }
    const base = results.get(kase.baseline)!.map((r) => r[kase.metric]);
    for (const variant of kase.variants) {
      const values = results.get(variant.name)!.map((r) => r[kase.metric]);
      const ratios = values.map((v, i) => v / base[i]);
      const figure = kase.serverFigure;
      const cpu = figure
        ? `  ${figure}=${
          format(median(results.get(variant.name)!.map((r) => r[figure])))
        }`
        : "";
      const floorName = (kase.floors ??
        (results.has("floor") ? { ours: "floor" } : {}))[variant.name];
      const floor = floorName === undefined || !results.has(floorName)
        ? ""
        : `  vs ${floorName}: ${
          median(
            results.get(floorName)!.map((r, i) => values[i] / r[kase.metric]),
          ).toFixed(2)
        }x`;
      const line = `${kase.name.padEnd(13)} ${
        variant.name.padEnd(5)
      } median ${kase.metric}=${
        format(median(values))
      }  ratio vs ${kase.baseline}: ${
        median(ratios).toFixed(2)
      }x${floor}${cpu}`;
      summary.push(line);
    }
  }
  console.log(
    "\n## Summary (median over rounds; ratio = median of per-round ratios)",
  );
  for (const line of summary) console.log(line);
}
