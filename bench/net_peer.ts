// One side (or both) of an end-to-end benchmark case, run by bench/net.ts:
//
//   deno run --allow-net=127.0.0.1 bench/net_peer.ts CASE VARIANT server
//     prints "PORT <n>", serves, exits
//   deno run --allow-net=127.0.0.1 bench/net_peer.ts CASE VARIANT client PORT
//     does the work, prints one JSON line: {"seconds": ..., ...}
//   deno run --allow-net=127.0.0.1 bench/net_peer.ts CASE VARIANT both
//     both sides in this one process
//
// VARIANT is "ours" (this module), "raw" (hand-written code on Deno.Conn), or
// for small, batch and concurrency "floor" (bench/_floor.ts: the least code
// that follows this module's rules, to show what the rules alone cost). The
// bulk cases also run "into" (recvInto one reused buffer) and "borrow"
// (framesBorrowed): the zero-copy receives, "floor-into": a raw receiver into
// one reused buffer, fed by the floor's sender, which copies each frame as
// `sendFrame` must, and "floor-queued", the floor of every rule the zero-copy
// variants keep: frames copied and queued up to the default 1 MiB mark, and
// each receive a promise of its own that close() can settle.
// Every case does a fixed amount of work, scaled by the SCALE env var (default 1).

import process from "node:process";
import {
  bindUdp,
  connect,
  type Framing,
  listen,
  serve,
  serveWorkers,
} from "../mod.ts";
import {
  FloorIntoReader,
  FloorReader,
  FloorWriter,
  QueuedFrameWriter,
} from "./_floor.ts";
import { DecoderStream, EncoderStream, lengthPrefixed } from "../framing.ts";
import { logLine, startProxy } from "../cli/proxy.ts";
import type { Server, Socket } from "../cli/endpoint.ts";

const encoder = new TextEncoder();
const SCALE = Number(Deno.env.get("SCALE") ?? "1");
const scaled = (n: number) => Math.max(1, Math.round(n * SCALE));

const BULK_BYTES = scaled(1024) * 1024 * 1024; // 1 GiB
const BULK_FRAME = 64 * 1024;
/**
 * What every bulk variant sends untimed before the timed bytes: the env var
 * BULK_WARMUP_MB, 0 by default (the timed bytes are then a fresh process's
 * first, as in every earlier session). A process's first ~64 MiB of fresh
 * read memory cost a page fault per page, and JIT tiers settle meanwhile, so
 * with a warm-up the cases measure steady-state throughput instead
 * (BENCHMARKS.md, Session 10).
 */
const BULK_WARMUP_BYTES = Number(Deno.env.get("BULK_WARMUP_MB") ?? 0) *
  1024 * 1024;
const SMALL_FRAMES = scaled(1_000_000);
const SMALL_PAYLOAD = 32;
const ECHO_TRIPS = scaled(100_000);
const CONC_CONNECTIONS = 500;
const CONC_TRIPS = scaled(200);
const UDP_DATAGRAMS = scaled(500_000);
const IDLE_CONNECTIONS = scaled(5000);
const UDP_PAYLOAD = 64;

const [caseName, variant, role, portArg] = Deno.args;

// ---- transports: bulk and echo also run over TLS and a Unix socket ----
// Cases "bulk-tls", "echo-tls", "bulk-unix", "echo-unix": the same code with
// `tls` or `path` in listen/connect (ours) against raw Deno.listenTls and
// Deno.connectTls, or Deno.listen/connect({ transport: "unix" }) (raw).

const TRANSPORT = caseName?.endsWith("-tls")
  ? "tls"
  : caseName?.endsWith("-unix")
  ? "unix"
  : "tcp";
const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../tests/fixtures/${name}`, import.meta.url));
/** The Unix socket of one bench:net run: named by its pid, our parent's. */
const benchSocketPath = (pid: number) => `/tmp/wire-bench-${pid}.sock`;

function listenOptions(): { path: string } | {
  port: 0;
  tls?: { cert: string; key: string };
} {
  if (TRANSPORT === "unix") return { path: benchSocketPath(Deno.ppid) };
  if (TRANSPORT === "tcp") return { port: 0 };
  return {
    port: 0,
    tls: { cert: fixture("localhost.pem"), key: fixture("localhost.key") },
  };
}

function connectOptions(port: number) {
  if (TRANSPORT === "unix") return { path: benchSocketPath(Deno.ppid) };
  if (TRANSPORT === "tcp") return { port };
  return { port, tls: { caCerts: [fixture("ca.pem")] } };
}

function rawListen(): Deno.Listener {
  if (TRANSPORT === "unix") {
    return Deno.listen({ transport: "unix", path: benchSocketPath(Deno.ppid) });
  }
  if (TRANSPORT === "tcp") {
    return Deno.listen({ hostname: "127.0.0.1", port: 0 });
  }
  return Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: fixture("localhost.pem"),
    key: fixture("localhost.key"),
  });
}

function rawConnect(port: number): Promise<Deno.Conn> {
  if (TRANSPORT === "unix") {
    return Deno.connect({
      transport: "unix",
      path: benchSocketPath(Deno.ppid),
    });
  }
  if (TRANSPORT === "tcp") return Deno.connect({ hostname: "127.0.0.1", port });
  return Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [fixture("ca.pem")],
  });
}

/** The port to announce: 0 for a Unix socket (the client knows the path). */
const portOf = (addr: Deno.Addr) => "port" in addr ? addr.port : 0;

function report(result: Record<string, number>): void {
  console.log(JSON.stringify(result));
}

function announce(port: number): void {
  console.log(`PORT ${port}`);
}

/** A 4-byte big-endian length header then the payload: what lengthPrefixed() writes. */
function rawFrame(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length);
  frame.set(payload, 4);
  return frame;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

async function readExactly(conn: Deno.Conn, into: Uint8Array): Promise<void> {
  for (let offset = 0; offset < into.length;) {
    const n = await conn.read(into.subarray(offset));
    if (n === null) throw new Error("unexpected end of stream");
    offset += n;
  }
}

/**
 * The hand-written decoder: finds length-prefixed frames across reads and
 * hands each to `onFrame` as a view, as user code would get it.
 */
class RawFrameDecoder {
  frames = 0;
  #carry = new Uint8Array(0);
  readonly #onFrame: (frame: Uint8Array) => void;

  constructor(onFrame: (frame: Uint8Array) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Uint8Array): void {
    let data = chunk;
    if (this.#carry.length > 0) {
      data = new Uint8Array(this.#carry.length + chunk.length);
      data.set(this.#carry);
      data.set(chunk, this.#carry.length);
    }
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = (data[offset] << 24 | data[offset + 1] << 16 |
        data[offset + 2] << 8 | data[offset + 3]) >>> 0;
      if (data.length - offset - 4 < length) break;
      this.frames++;
      this.#onFrame(data.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    this.#carry = data.slice(offset);
  }
}

// ---- bulk: 1 GiB one way in 64 KiB frames ----

/**
 * The floor's read size, of the three that measured fastest on a Unix socket
 * (fresh memory per read: 64 KiB 0.73x raw, 256 KiB 0.61x, 1 MiB 0.35x).
 */
const FLOOR_READ = Number(Deno.env.get("FLOOR_READ") ?? 64 * 1024);

/** Receives `frames` frames' bytes through `recvInto`, into one reused target. */
async function receiveAllInto(
  recvInto: (target: Uint8Array) => Promise<number | null>,
  frames: number,
): Promise<void> {
  const target = new Uint8Array(BULK_FRAME);
  const total = frames * (BULK_FRAME + 4);
  for (let received = 0; received < total;) {
    const n = await recvInto(target);
    if (n === null) throw new Error("unexpected end of stream");
    received += n;
  }
}

async function bulkServer(): Promise<void> {
  const frames = (BULK_WARMUP_BYTES + BULK_BYTES) / BULK_FRAME;
  if (variant === "into" || variant === "raw-into") {
    // The zero-copy receive: recvInto one reused buffer, as the raw loop does
    // (raw-into: from the raw sender, which copies nothing).
    await using server = listen(listenOptions());
    announce(portOf(server.addr));
    await using socket = await server.accept();
    await receiveAllInto((target) => socket.recvInto(target), frames);
    await socket.send(new Uint8Array(1));
  } else if (variant === "floor-queued") {
    using listener = rawListen();
    announce(portOf(listener.addr));
    using conn = await listener.accept();
    const reader = new FloorIntoReader(conn);
    await receiveAllInto((target) => reader.recvInto(target), frames);
    await conn.write(new Uint8Array(1));
  } else if (variant === "ours" || variant === "borrow") {
    await using server = listen(listenOptions());
    announce(portOf(server.addr));
    await using socket = await server.accept();
    let count = 0;
    const received = variant === "borrow"
      ? socket.framesBorrowed()
      : socket.frames();
    for await (const frame of received) {
      if (frame.length !== BULK_FRAME) throw new Error("bad frame");
      if (++count === frames) break;
    }
    await socket.send(new Uint8Array(1));
  } else {
    using listener = rawListen();
    announce(portOf(listener.addr));
    using conn = await listener.accept();
    // The floor follows the rule that frames stay valid: every read goes
    // into fresh memory (of the size that measured fastest), nothing else.
    // (floor-into receives as raw does: its rules are the sender's.)
    const fresh = variant === "floor";
    const size = fresh ? FLOOR_READ : BULK_FRAME;
    let buffer = new Uint8Array(size);
    let received = 0;
    const total = frames * (BULK_FRAME + 4);
    while (received < total) {
      if (fresh) buffer = new Uint8Array(size);
      const n = await conn.read(buffer);
      if (n === null) throw new Error("unexpected end of stream");
      received += n;
    }
    await conn.write(new Uint8Array(1));
  }
}

async function bulkClient(port: number): Promise<void> {
  const payload = new Uint8Array(BULK_FRAME).fill(7);
  // Cold (no warm-up), connecting is timed too, as it always was; closing,
  // after the receiver has every byte, is not.
  let start = performance.now();
  await using sender = await bulkSender(port, payload);
  if (BULK_WARMUP_BYTES > 0) {
    await sender.send(BULK_WARMUP_BYTES / BULK_FRAME);
    start = performance.now();
  }
  await sender.send(BULK_BYTES / BULK_FRAME);
  await sender.finished();
  const seconds = (performance.now() - start) / 1000;
  report({ seconds, mbPerSecond: BULK_BYTES / 1e6 / seconds });
}

/** One bulk variant's sending side: `payload` as frames, `count` at a time. */
interface BulkSender extends AsyncDisposable {
  send(count: number): Promise<void>;
  /** Resolves once the receiver has every frame (its one-byte reply). */
  finished(): Promise<void>;
}

async function bulkSender(
  port: number,
  payload: Uint8Array,
): Promise<BulkSender> {
  if (variant === "ours" || variant === "into" || variant === "borrow") {
    const socket = await connect(connectOptions(port));
    return {
      async send(count) {
        for (let i = 0; i < count; i++) await socket.sendFrame(payload);
      },
      async finished() {
        await socket.recvExactly(1);
      },
      [Symbol.asyncDispose]: () => socket[Symbol.asyncDispose](),
    };
  }
  const conn = await rawConnect(port);
  const closeConn = () => Promise.resolve(conn.close());
  if (variant === "floor-queued") {
    const writer = new QueuedFrameWriter(conn);
    return {
      async send(count) {
        for (let i = 0; i < count; i++) await writer.sendFrame(payload);
      },
      // The reply comes once every byte is in: nothing is left to flush.
      finished: () => readExactly(conn, new Uint8Array(1)),
      [Symbol.asyncDispose]: closeConn,
    };
  }
  const frame = rawFrame(payload);
  // The floor follows the rule that a send copies (the caller may reuse its
  // bytes once the send resolves): each frame is copied before its write.
  const copy = variant === "floor" || variant === "floor-into"
    ? new Uint8Array(frame.length)
    : frame;
  return {
    async send(count) {
      for (let i = 0; i < count; i++) {
        if (copy !== frame) copy.set(frame);
        await writeAll(conn, copy);
      }
    },
    finished: () => readExactly(conn, new Uint8Array(1)),
    [Symbol.asyncDispose]: closeConn,
  };
}

// ---- small: 1,000,000 frames of 32 bytes one way ----

/** Ours or the floor's: what the small and batch cases send through. */
interface FrameSink {
  sendFrame(payload: Uint8Array): Promise<void>;
  sendFrames(payloads: Uint8Array[]): Promise<void>;
}

/** Ours or the floor's: what the small and batch cases receive from. */
interface FrameSource {
  recvFrames(): Promise<Uint8Array[] | null>;
}

/**
 * Sends SMALL_FRAMES copies of `payload`: one awaited `sendFrame` each, or in
 * the batch case `sendFrames` of 1,024 at a time (a caller who holds many
 * frames hands them over at once).
 */
async function sendSmall(
  sink: FrameSink,
  payload: Uint8Array,
  batch: boolean,
): Promise<void> {
  if (!batch) {
    for (let i = 0; i < SMALL_FRAMES; i++) await sink.sendFrame(payload);
    return;
  }
  const group = Array.from({ length: 1024 }, () => payload);
  for (let sent = 0; sent < SMALL_FRAMES; sent += group.length) {
    const n = Math.min(group.length, SMALL_FRAMES - sent);
    await sink.sendFrames(n === group.length ? group : group.slice(0, n));
  }
}

/**
 * Receives SMALL_FRAMES frames: one `for await` step each, or in the batch
 * case every buffered frame per `recvFrames` (one await per batch).
 */
async function receiveSmall(
  source: FrameSource,
  frames: AsyncIterable<Uint8Array>,
  batch: boolean,
): Promise<void> {
  let count = 0;
  if (!batch) {
    for await (const frame of frames) {
      if (frame.length !== SMALL_PAYLOAD) throw new Error("bad frame");
      if (++count === SMALL_FRAMES) return;
    }
    throw new Error("unexpected end of stream");
  }
  while (count < SMALL_FRAMES) {
    const received = await source.recvFrames();
    if (received === null) throw new Error("unexpected end of stream");
    for (const frame of received) {
      if (frame.length !== SMALL_PAYLOAD) throw new Error("bad frame");
    }
    count += received.length;
  }
}

/**
 * The "user" variant's framing: a 4-byte big-endian length prefix written the
 * way a user would, with `encode` and `decode` only (none of the built-in
 * codecs' private fast paths).
 */
const userFraming: Framing<Uint8Array> = {
  encode(payload) {
    const out = new Uint8Array(4 + payload.length);
    const n = payload.length;
    out[0] = n >>> 24;
    out[1] = n >>> 16;
    out[2] = n >>> 8;
    out[3] = n;
    out.set(payload, 4);
    return out;
  },
  decode(bytes, offset) {
    if (bytes.length - offset < 4) return null;
    const length = ((bytes[offset] << 24) | (bytes[offset + 1] << 16) |
      (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
    const end = offset + 4 + length;
    if (end > bytes.length) return null;
    return { value: bytes.subarray(offset + 4, end), next: end };
  },
};

/** The framing of the "ours" variants: built-in, or the user's for "user". */
const oursFraming = variant === "user" ? userFraming : lengthPrefixed();

async function smallServerOurs(
  socketReady: (port: number) => void,
  batch: boolean,
): Promise<void> {
  await using server = listen({ framing: oursFraming });
  socketReady(server.addr.port);
  await using socket = await server.accept();
  await receiveSmall(socket, socket.frames(), batch);
  await socket.send(new Uint8Array(1));
  await socket.flush();
}

async function smallServerRaw(
  socketReady: (port: number) => void,
  _batch: boolean,
): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  socketReady(listener.addr.port);
  using conn = await listener.accept();
  const buffer = new Uint8Array(64 * 1024);
  const decoder = new RawFrameDecoder((frame) => {
    if (frame.length !== SMALL_PAYLOAD) throw new Error("bad frame");
  });
  while (decoder.frames < SMALL_FRAMES) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("unexpected end of stream");
    decoder.push(buffer.subarray(0, n));
  }
  await conn.write(new Uint8Array(1));
}

async function smallClient(port: number, batch: boolean): Promise<number> {
  const payload = new Uint8Array(SMALL_PAYLOAD).fill(1);
  const start = performance.now();
  if (variant === "ours" || variant === "user") {
    await using socket = await connect({ port, framing: oursFraming });
    await sendSmall(socket, payload, batch);
    await socket.recvExactly(1);
  } else if (variant === "floor") {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const writer = new FloorWriter(conn);
    await sendSmall(writer, payload, batch);
    await writer.flush();
    await readExactly(conn, new Uint8Array(1));
  } else {
    // Hand-batched: frames packed into 64 KiB writes.
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const frame = rawFrame(payload);
    const batchBytes = new Uint8Array(64 * 1024);
    let used = 0;
    for (let i = 0; i < SMALL_FRAMES; i++) {
      if (used + frame.length > batchBytes.length) {
        await writeAll(conn, batchBytes.subarray(0, used));
        used = 0;
      }
      batchBytes.set(frame, used);
      used += frame.length;
    }
    await writeAll(conn, batchBytes.subarray(0, used));
    await readExactly(conn, new Uint8Array(1));
  }
  return (performance.now() - start) / 1000;
}

async function smallServerFloor(
  socketReady: (port: number) => void,
  batch: boolean,
): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  socketReady(listener.addr.port);
  using conn = await listener.accept();
  conn.setNoDelay(true);
  const reader = new FloorReader(conn);
  await receiveSmall(reader, reader, batch);
  await conn.write(new Uint8Array(1));
}

async function small(batch: boolean): Promise<void> {
  const serverSide = variant === "ours" || variant === "user"
    ? smallServerOurs
    : variant === "floor"
    ? smallServerFloor
    : smallServerRaw;
  if (role === "server") {
    await serverSide(announce, batch);
    return;
  }
  if (role === "client") {
    const seconds = await smallClient(Number(portArg), batch);
    report({ seconds, framesPerSecond: SMALL_FRAMES / seconds });
    return;
  }
  // both sides in this process
  const ready = Promise.withResolvers<number>();
  const served = serverSide(ready.resolve, batch);
  const seconds = await smallClient(await ready.promise, batch);
  await served;
  report({ seconds, framesPerSecond: SMALL_FRAMES / seconds });
}

// ---- echo: framed request/response round trips over one connection ----

async function echoServer(): Promise<void> {
  if (variant === "ours") {
    await using server = listen(listenOptions());
    announce(portOf(server.addr));
    await using socket = await server.accept();
    for await (const frame of socket.frames()) await socket.sendFrame(frame);
  } else {
    using listener = rawListen();
    announce(portOf(listener.addr));
    using conn = await listener.accept();
    await rawEcho(conn);
  }
}

/**
 * The raw echo server's loop for one connection (also bench/_raw_worker.ts's):
 * reads whole frames (up to `bufferSize` bytes) and writes each back.
 */
export async function rawEcho(
  conn: Deno.Conn,
  bufferSize = 64 * 1024,
): Promise<void> {
  const buffer = new Uint8Array(bufferSize);
  let used = 0;
  for (;;) {
    const n = await conn.read(buffer.subarray(used));
    if (n === null) return;
    used += n;
    let offset = 0;
    while (used - offset >= 4) {
      const length = new DataView(buffer.buffer, offset).getUint32(0);
      if (used - offset - 4 < length) break;
      await writeAll(conn, buffer.subarray(offset, offset + 4 + length));
      offset += 4 + length;
    }
    buffer.copyWithin(0, offset, used);
    used -= offset;
  }
}

async function rawRoundTrip(
  conn: Deno.Conn,
  frame: Uint8Array,
  reply: Uint8Array,
): Promise<void> {
  await writeAll(conn, frame);
  await readExactly(conn, reply);
}

async function echoClient(port: number): Promise<void> {
  const payload = encoder.encode("x".repeat(32));
  const start = performance.now();
  if (variant === "ours") {
    await using socket = await connect(connectOptions(port));
    for (let i = 0; i < ECHO_TRIPS; i++) {
      await socket.sendFrame(payload);
      const reply = await socket.recvFrame();
      if (reply?.length !== 32) throw new Error("bad reply");
    }
  } else {
    using conn = await rawConnect(port);
    const frame = rawFrame(payload);
    const reply = new Uint8Array(frame.length);
    for (let i = 0; i < ECHO_TRIPS; i++) await rawRoundTrip(conn, frame, reply);
  }
  const seconds = (performance.now() - start) / 1000;
  report({ seconds, tripsPerSecond: ECHO_TRIPS / seconds });
}

// ---- concurrency: 500 connections x 200 round trips through one server ----

/**
 * Announces `port` and returns what prints the process's CPU (every thread)
 * per round trip from then on: call it once every connection has ended.
 */
function announceMeasured(
  port: number,
  units = CONC_CONNECTIONS * CONC_TRIPS,
  unit = "Trip",
): () => void {
  announce(port);
  const cpu = process.cpuUsage();
  const main = mainThreadNanos();
  return () => {
    const used = process.cpuUsage(cpu);
    const mainMicros = (mainThreadNanos() - main) / 1000;
    report({
      [`serverCpuMicrosPer${unit}`]: (used.user + used.system) / units,
      // Only where /proc may be read (run with --allow-all).
      ...(Number.isNaN(mainMicros)
        ? {}
        : { [`serverMainMicrosPer${unit}`]: mainMicros / units }),
    });
  };
}

/**
 * The JavaScript thread's time on a CPU in ns (Linux: schedstat), without the
 * runtime's other threads (the compiler's, the garbage collector's); NaN
 * where it cannot be read (Deno lets only --allow-all read /proc).
 */
function mainThreadNanos(): number {
  try {
    const text = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/schedstat`);
    return Number(text.split(" ")[0]);
  } catch {
    return NaN;
  }
}

function concurrencyServer(): Promise<void> {
  return servedEcho(CONC_CONNECTIONS, announceMeasured, 64 * 1024);
}

/** The same raw client for every server: only the server differs. */
async function concurrencyClient(port: number): Promise<void> {
  const payload = encoder.encode("y".repeat(32));
  const frame = rawFrame(payload);
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < CONC_CONNECTIONS; i++) {
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  const start = performance.now();
  await Promise.all(conns.map(async (conn) => {
    const reply = new Uint8Array(frame.length);
    for (let i = 0; i < CONC_TRIPS; i++) await rawRoundTrip(conn, frame, reply);
    conn.close();
  }));
  const seconds = (performance.now() - start) / 1000;
  report({ seconds, tripsPerSecond: CONC_CONNECTIONS * CONC_TRIPS / seconds });
}

// ---- connections: short connections, one round trip each ----
// What a server of one request per connection pays per connection: the
// accept, its handler's start and end, the close. The client keeps
// SHORT_PARALLEL connections going; each sends one frame, reads its echo and
// closes.

const SHORT_CONNECTIONS = scaled(20_000);
const SHORT_PARALLEL = 50;

function connectionsServer(): Promise<void> {
  return servedEcho(
    SHORT_CONNECTIONS,
    (port) => announceMeasured(port, SHORT_CONNECTIONS, "Connection"),
    1024,
  );
}

/**
 * The echo server of the concurrency and connections cases: serve() (ours),
 * or an accept loop running the floor's reader and writer (floor) or
 * `rawEcho` reading into `rawBuffer` bytes (raw), every connection with
 * Nagle off as ours has. Returns once `total` connections have ended, after
 * `startMeasuring` has announced the port and its returned function has
 * reported the server's CPU.
 */
async function servedEcho(
  total: number,
  startMeasuring: (port: number) => () => void,
  rawBuffer: number,
): Promise<void> {
  let finished = 0;
  const done = Promise.withResolvers<void>();
  const count = () => {
    if (++finished === total) done.resolve();
  };
  if (variant === "ours") {
    const server = serve({ port: 0 }, async (socket) => {
      for await (const frame of socket.frames()) await socket.sendFrame(frame);
      count();
    });
    const measured = startMeasuring(server.addr.port);
    await done.promise;
    measured();
    await server.shutdown();
    return;
  }
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const measured = startMeasuring(listener.addr.port);
  const handle = async (conn: Deno.TcpConn) => {
    try {
      conn.setNoDelay(true);
      if (variant === "floor") {
        const writer = new FloorWriter(conn);
        for await (const frame of new FloorReader(conn)) {
          await writer.sendFrame(frame);
        }
        await writer.flush();
      } else {
        await rawEcho(conn, rawBuffer);
      }
    } finally {
      conn.close();
      count();
    }
  };
  for (let accepted = 0; accepted < total; accepted++) {
    handle(await listener.accept());
  }
  await done.promise;
  measured();
}

/** The same raw client for every server: only the server differs. */
async function connectionsClient(port: number): Promise<void> {
  const frame = rawFrame(encoder.encode("z".repeat(32)));
  let opened = 0;
  const worker = async () => {
    const reply = new Uint8Array(frame.length);
    while (opened < SHORT_CONNECTIONS) {
      opened++;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await rawRoundTrip(conn, frame, reply);
      conn.close();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: SHORT_PARALLEL }, worker));
  const seconds = (performance.now() - start) / 1000;
  report({ seconds, connectionsPerSecond: SHORT_CONNECTIONS / seconds });
}

// ---- udp: 500,000 datagrams of 64 bytes one way ----

async function udpServer(): Promise<void> {
  // Counts datagrams until a 1-byte "end" datagram, then reports the count back.
  let received = 0;
  if (variant === "ours") {
    using socket = bindUdp();
    announce(socket.addr.port);
    for await (const datagram of socket) {
      if (datagram.data.length === 1) {
        await socket.sendTo(encoder.encode(String(received)), datagram.addr);
        break;
      }
      received++;
    }
  } else {
    const socket = Deno.listenDatagram({
      hostname: "127.0.0.1",
      port: 0,
      transport: "udp",
    });
    announce((socket.addr as Deno.NetAddr).port);
    const buffer = new Uint8Array(65536);
    for (;;) {
      const [data, addr] = await socket.receive(buffer);
      if (data.length === 1) {
        await socket.send(encoder.encode(String(received)), addr);
        break;
      }
      received++;
    }
    socket.close();
  }
}

async function udpClient(port: number): Promise<void> {
  const payload = new Uint8Array(UDP_PAYLOAD).fill(3);
  const to = { hostname: "127.0.0.1", port, transport: "udp" as const };
  const start = performance.now();
  let received: number;
  if (variant === "ours") {
    using socket = bindUdp();
    for (let i = 0; i < UDP_DATAGRAMS; i++) await socket.sendTo(payload, to);
    const sendSeconds = (performance.now() - start) / 1000;
    received = await udpFinish(
      (data) => socket.sendTo(data, to),
      async () => (await socket.recvFrom()).data,
    );
    return udpReport(start, sendSeconds, received);
  } else {
    const socket = Deno.listenDatagram({
      hostname: "127.0.0.1",
      port: 0,
      transport: "udp",
    });
    for (let i = 0; i < UDP_DATAGRAMS; i++) await socket.send(payload, to);
    const sendSeconds = (performance.now() - start) / 1000;
    received = await udpFinish(
      (data) => socket.send(data, to),
      async () => (await socket.receive())[0],
    );
    socket.close();
    return udpReport(start, sendSeconds, received);
  }
}

/** Sends the end marker (repeatedly: it may be lost too) until the count comes back. */
async function udpFinish(
  send: (data: Uint8Array) => Promise<number>,
  receive: () => Promise<Uint8Array>,
): Promise<number> {
  const reply = receive();
  for (let attempt = 0; attempt < 50; attempt++) {
    await send(new Uint8Array(1));
    const settled = await Promise.race([
      reply.then((data) => data),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 100)),
    ]);
    if (settled !== null) return Number(new TextDecoder().decode(settled));
  }
  throw new Error("no reply from the UDP server");
}

function udpReport(start: number, sendSeconds: number, received: number): void {
  const seconds = (performance.now() - start) / 1000;
  report({
    seconds,
    sentPerSecond: UDP_DATAGRAMS / sendSeconds,
    receivedPerSecond: received / sendSeconds,
    lossPercent: 100 * (1 - received / UDP_DATAGRAMS),
  });
}

// ---- webstreams: 1,000,000 frames of 32 bytes one way, through Web Streams ----

/** The hand-written decoder as a TransformStream: each frame enqueued as a view. */
function rawDecoderStream(): TransformStream<Uint8Array, Uint8Array> {
  let controller!: TransformStreamDefaultController<Uint8Array>;
  const decoder = new RawFrameDecoder((frame) => controller.enqueue(frame));
  return new TransformStream({
    start(c) {
      controller = c;
    },
    transform(chunk) {
      decoder.push(chunk);
    },
  });
}

async function webstreamsServer(): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  announce(listener.addr.port);
  using conn = await listener.accept();
  const frames = conn.readable.pipeThrough(
    variant === "ours"
      ? new DecoderStream(lengthPrefixed())
      : rawDecoderStream(),
  );
  let count = 0;
  for await (const frame of frames.values({ preventCancel: true })) {
    if (frame.length !== SMALL_PAYLOAD) throw new Error("bad frame");
    if (++count === SMALL_FRAMES) break;
  }
  if (count !== SMALL_FRAMES) throw new Error("unexpected end of stream");
  await writeAll(conn, new Uint8Array(1));
}

/**
 * SMALL_FRAMES copies of `payload` as a stream, one enqueued per pull: the
 * plain way to write a source (here 2-3x faster in Deno 2.9 than enqueueing
 * 1,024 per pull into a high-water mark of 1,024, which caps any pipe of it
 * at ~0.65 M values/s).
 */
function payloadStream(payload: Uint8Array): ReadableStream<Uint8Array> {
  let left = SMALL_FRAMES;
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(payload);
      if (--left === 0) controller.close();
    },
  });
}

/** A sink that writes each value's frame into 64 KiB batches, then to `conn`. */
function batchingSink(conn: Deno.Conn): WritableStream<Uint8Array> {
  const batch = new Uint8Array(64 * 1024);
  let used = 0;
  const flush = async () => {
    await writeAll(conn, batch.subarray(0, used));
    used = 0;
  };
  return new WritableStream({
    async write(payload) {
      if (used + 4 + payload.length > batch.length) await flush();
      new DataView(batch.buffer).setUint32(used, payload.length);
      batch.set(payload, used + 4);
      used += 4 + payload.length;
    },
    close: flush,
  });
}

async function webstreamsClient(port: number): Promise<void> {
  const payload = new Uint8Array(SMALL_PAYLOAD).fill(1);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const start = performance.now();
  if (variant === "ours") {
    await payloadStream(payload)
      .pipeThrough(new EncoderStream(lengthPrefixed()))
      .pipeTo(conn.writable, { preventClose: true });
  } else if (variant === "floor") {
    // The least any code taking values from a stream can do: one pipe step
    // per value into a sink that packs frames into 64 KiB writes by hand.
    await payloadStream(payload).pipeTo(batchingSink(conn));
  } else {
    await writeFramesToWritable(conn, payload);
  }
  await readExactly(conn, new Uint8Array(1));
  const seconds = (performance.now() - start) / 1000;
  report({ seconds, framesPerSecond: SMALL_FRAMES / seconds });
}

/** The raw sender of both webstreams cases: each encoded frame, one awaited write to `conn.writable`. */
async function writeFramesToWritable(conn: Deno.Conn, payload: Uint8Array) {
  const writer = conn.writable.getWriter();
  const frame = rawFrame(payload);
  for (let i = 0; i < SMALL_FRAMES; i++) await writer.write(frame);
  writer.releaseLock();
}

// ---- webstreams-write: the same frames, one awaited writer.write per value ----

async function webstreamsWriteServer(): Promise<void> {
  // The same hand-written receiver for every variant: only the sender differs.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  announce(listener.addr.port);
  using conn = await listener.accept();
  const frames = conn.readable.pipeThrough(rawDecoderStream());
  let count = 0;
  for await (const frame of frames.values({ preventCancel: true })) {
    if (frame.length !== SMALL_PAYLOAD) throw new Error("bad frame");
    if (++count === SMALL_FRAMES) break;
  }
  if (count !== SMALL_FRAMES) throw new Error("unexpected end of stream");
  await writeAll(conn, new Uint8Array(1));
}

async function webstreamsWriteClient(port: number): Promise<void> {
  const payload = new Uint8Array(SMALL_PAYLOAD).fill(1);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const start = performance.now();
  if (variant === "ours") {
    // A loop of awaited writes into the encoder, its readable piped to conn.
    const encoder = new EncoderStream(lengthPrefixed());
    const piped = encoder.readable.pipeTo(conn.writable, {
      preventClose: true,
    });
    const writer = encoder.writable.getWriter();
    for (let i = 0; i < SMALL_FRAMES; i++) await writer.write(payload);
    await writer.close();
    await piped;
  } else if (variant === "floor") {
    // The same loop into a hand-written sink that packs 64 KiB writes.
    const writer = batchingSink(conn).getWriter();
    for (let i = 0; i < SMALL_FRAMES; i++) await writer.write(payload);
    await writer.close();
  } else {
    // The same loop writing each encoded frame straight to conn.writable.
    await writeFramesToWritable(conn, payload);
  }
  await readExactly(conn, new Uint8Array(1));
  const seconds = (performance.now() - start) / 1000;
  report({ seconds, framesPerSecond: SMALL_FRAMES / seconds });
}

// ---- idle: what an idle served connection costs the server in memory ----
// The client opens IDLE_CONNECTIONS connections, each sends one 32 B frame and
// reads its echo; the server then holds them idle, measures its RSS against
// what it was before the first connection, reports the cost per connection,
// and closes them. Variants: serve() (ours), a raw accept loop reading into a
// 1 KiB buffer (raw) or a 64 KiB one (raw64k).

/** RSS once the garbage collector has run (when --expose-gc allows it). */
async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return Deno.memoryUsage().rss;
}

async function idleServer(): Promise<void> {
  const total = IDLE_CONNECTIONS;
  let echoed = 0;
  const allIdle = Promise.withResolvers<void>();
  const count = () => {
    if (++echoed === total) allIdle.resolve();
  };
  const before = await settledRss();
  const heapBefore = Deno.memoryUsage();
  let stop: () => Promise<void>;
  if (variant === "ours") {
    const server = serve({ port: 0 }, async (socket) => {
      for await (const frame of socket.frames()) {
        await socket.sendFrame(frame);
        count();
      }
    });
    announce(server.addr.port);
    stop = () => server.shutdown();
  } else {
    const size = variant === "raw64k" ? 64 * 1024 : 1024;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    announce(listener.addr.port);
    const conns = new Set<Deno.Conn>();
    const handle = async (conn: Deno.Conn) => {
      conns.add(conn);
      const buffer = new Uint8Array(size);
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          await writeAll(conn, buffer.subarray(0, n));
          count();
        }
      } catch {
        // Closed by stop().
      } finally {
        conns.delete(conn);
      }
    };
    (async () => {
      for (let accepted = 0; accepted < total; accepted++) {
        handle(await listener.accept());
      }
    })();
    stop = () => {
      listener.close();
      for (const conn of conns) conn.close();
      return Promise.resolve();
    };
  }
  await allIdle.promise;
  const after = await settledRss();
  // Beside RSS, where it went: live JavaScript objects (heapUsed), what V8
  // reserved for them (heapTotal: its young generation's size varies with the
  // allocation pattern, in steps of megabytes), ArrayBuffers (external).
  const heapAfter = Deno.memoryUsage();
  const perConnection = (key: "heapUsed" | "heapTotal" | "external") =>
    (heapAfter[key] - heapBefore[key]) / 1024 / total;
  report({
    kibPerConnection: (after - before) / 1024 / total,
    heapUsed: perConnection("heapUsed"),
    heapTotal: perConnection("heapTotal"),
    external: perConnection("external"),
  });
  await stop();
}

async function idleClient(port: number): Promise<void> {
  const frame = rawFrame(encoder.encode("z".repeat(32)));
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < IDLE_CONNECTIONS; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    await rawRoundTrip(conn, frame, new Uint8Array(frame.length));
  }
  // Held until the server has measured and closes them.
  await Promise.all(conns.map(async (conn) => {
    try {
      while (await conn.read(new Uint8Array(64)) !== null) { /* drain */ }
    } catch {
      // Reset by the server: closed all the same.
    } finally {
      conn.close();
    }
  }));
}

// ---- proxy-echo, proxy-bulk: the raw echo and bulk through a forwarder ----
// The server process runs the raw echo server (or bulk sink) and, in front of
// it, the forwarder under test; the client is the raw client of echo or bulk.

/**
 * A hand-written forwarder: one read buffer per direction, writeAll, FIN.
 * The floor follows the library's rules for memory: every read into fresh
 * memory (what recv hands out stays valid), every write from a copy (a send
 * copies), nothing else.
 */
async function rawForward(listener: Deno.Listener, target: number) {
  const fresh = variant === "floor";
  const client = await listener.accept();
  const server = await Deno.connect({ hostname: "127.0.0.1", port: target });
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    let buffer = new Uint8Array(64 * 1024);
    for (;;) {
      if (fresh) buffer = new Uint8Array(64 * 1024);
      const n = await from.read(buffer);
      if (n === null) break;
      await writeAll(to, fresh ? buffer.slice(0, n) : buffer.subarray(0, n));
    }
    await to.closeWrite().catch(() => {});
  };
  await Promise.all([pump(client, server), pump(server, client)]);
  client.close();
  server.close();
}

/** wire's proxy, as `wire proxy` runs it without chaos options. */
async function oursForward(target: number) {
  let last = "";
  const proxy = startProxy({
    server: listen({ port: 0 }) as unknown as Server,
    connectTarget: async () =>
      await connect({ port: target }) as unknown as Socket,
    maxConnections: 1,
    onFrame: (frame) => last = logLine(frame), // formatted, not written
  });
  announce(portOf(proxy.addr));
  await proxy.finished;
  return last;
}

async function proxyServer(): Promise<void> {
  using behind = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const target = behind.addr.port;
  const served = (async () => {
    using conn = await behind.accept();
    if (caseName === "proxy-echo") return await rawEcho(conn);
    const total = (BULK_BYTES / BULK_FRAME) * (BULK_FRAME + 4);
    const buffer = new Uint8Array(BULK_FRAME);
    for (let received = 0; received < total;) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("unexpected end of stream");
      received += n;
    }
    await writeAll(conn, new Uint8Array(1));
  })();
  if (variant === "ours") {
    await Promise.all([oursForward(target), served]);
  } else {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    announce(listener.addr.port);
    await Promise.all([rawForward(listener, target), served]);
  }
}

async function proxyClient(port: number): Promise<void> {
  const start = performance.now();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (caseName === "proxy-echo") {
    const frame = rawFrame(encoder.encode("x".repeat(32)));
    const reply = new Uint8Array(frame.length);
    for (let i = 0; i < ECHO_TRIPS; i++) await rawRoundTrip(conn, frame, reply);
    const seconds = (performance.now() - start) / 1000;
    await conn.closeWrite();
    return report({ seconds, tripsPerSecond: ECHO_TRIPS / seconds });
  }
  const frame = rawFrame(new Uint8Array(BULK_FRAME).fill(7));
  for (let i = 0; i < BULK_BYTES / BULK_FRAME; i++) await writeAll(conn, frame);
  await readExactly(conn, new Uint8Array(1));
  const seconds = (performance.now() - start) / 1000;
  await conn.closeWrite();
  report({ seconds, mbPerSecond: BULK_BYTES / 1e6 / seconds });
}

// ---- workers: the concurrency case's server CPU per round trip, on one ----
// core (serve) and through serveWorkers with 1 and 2 workers; raw1 and raw2:
// the raw echo loop in 1 and 2 workers of reusePort listeners, what the
// runtime alone pays for a second thread. The server measures its process's
// CPU (every thread) from listening until every connection's handler has
// ended, and each worker's share of connections.

/** `count` workers of bench/_raw_worker.ts on one port: its number, and the connections each has ended. */
async function rawWorkers(count: number) {
  const url = new URL("./_raw_worker.ts", import.meta.url);
  const ended = new Array<number>(count).fill(0);
  const workers: Worker[] = [];
  let port = 0;
  for (let i = 0; i < count; i++) {
    const worker = new Worker(url, { type: "module" });
    workers.push(worker);
    const listening = Promise.withResolvers<number>();
    worker.onmessage = ({ data }) => {
      if ("port" in data) listening.resolve(data.port);
      else ended[i] = data.ended;
    };
    worker.postMessage({ port });
    port = await listening.promise;
  }
  return { port, ended, stop: () => workers.forEach((w) => w.terminate()) };
}

async function workersServer(): Promise<void> {
  const total = CONC_CONNECTIONS;
  let ended: () => number;
  let stop: () => Promise<void>;
  let shares: () => number[] = () => [1];
  if (variant === "serve") {
    let count = 0;
    const server = serve({ port: 0 }, async (socket) => {
      for await (const frame of socket.frames()) await socket.sendFrame(frame);
      count++;
    });
    announce(server.addr.port);
    ended = () => count;
    stop = () => server.shutdown();
  } else if (variant === "raw1" || variant === "raw2") {
    const server = await rawWorkers(variant === "raw2" ? 2 : 1);
    announce(server.port);
    ended = () => server.ended.reduce((a, b) => a + b, 0);
    shares = () => server.ended.map((n) => n / total);
    stop = () => Promise.resolve(server.stop());
  } else {
    const server = await serveWorkers(
      new URL("./_workers_echo.ts", import.meta.url),
      { port: 0, workers: variant === "w2" ? 2 : 1 },
    );
    announce(server.addr.port);
    ended = () => server.ended.reduce((a, b) => a + b, 0);
    shares = () => server.served.map((n) => n / total);
    stop = () => server.shutdown();
  }
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (ended() < total) await new Promise((r) => setTimeout(r, 20));
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - start) / 1000;
  await stop();
  report({
    cpuMicrosPerTrip: (used.user + used.system) / (total * CONC_TRIPS),
    seconds,
    minShare: Math.min(...shares()),
  });
}

// ---- dispatch ----

type Side = () => Promise<void>;
type ClientSide = (port: number) => Promise<void>;
const cases: Record<string, [Side, ClientSide]> = {
  bulk: [bulkServer, bulkClient],
  echo: [echoServer, echoClient],
  "bulk-tls": [bulkServer, bulkClient],
  "echo-tls": [echoServer, echoClient],
  "bulk-unix": [bulkServer, bulkClient],
  "echo-unix": [echoServer, echoClient],
  concurrency: [concurrencyServer, concurrencyClient],
  connections: [connectionsServer, connectionsClient],
  udp: [udpServer, udpClient],
  webstreams: [webstreamsServer, webstreamsClient],
  "webstreams-write": [webstreamsWriteServer, webstreamsWriteClient],
  idle: [idleServer, idleClient],
  workers: [workersServer, concurrencyClient],
  "proxy-echo": [proxyServer, proxyClient],
  "proxy-bulk": [proxyServer, proxyClient],
};

if (import.meta.main) {
  if (caseName === "small" || caseName === "batch") {
    await small(caseName === "batch");
  } else if (cases[caseName]) {
    const [server, client] = cases[caseName];
    if (role === "server") await server();
    else await client(Number(portArg));
  } else {
    console.error(`unknown case ${caseName}`);
    Deno.exit(2);
  }
}
