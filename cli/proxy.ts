// proxy: forwards both ways between each client and the target, byte for
// byte, and reports each frame it sees per direction. The chaos options
// change how the bytes travel, never what they are: --split cuts writes,
// --delay holds them, --seed makes both random but repeatable; --reset-after
// is the one that changes the stream: after N frames both sides are closed.

import { FrameDecoder, type Framing, parseFraming } from "../mod.ts";
import type { CommandLine } from "./args.ts";
import {
  type Address,
  addressOf,
  bind,
  open,
  type Server,
  showAddress,
  type Socket,
} from "./endpoint.ts";
import { type Frame, isMessage, preview } from "./format.ts";
import { onInterrupt } from "./interrupt.ts";
import { status, writeOut } from "./io.ts";

/** Which way a frame went: client to server, or back. */
export type Direction = "c>s" | "s>c";

/** A frame the proxy saw. */
export interface SeenFrame {
  /** When its last byte arrived. */
  time: Date;
  /** The connection's number, from 1. */
  conn: number;
  direction: Direction;
  /** Its bytes on the wire. */
  wireLength: number;
  /** The decoded value: the payload, or a message. */
  value: Frame;
}

/** What {@linkcode startProxy} needs. */
export interface ProxyOptions {
  /** Opens a connection to the target. */
  connectTarget: () => Promise<Socket>;
  /** The listener clients connect to. */
  server: Server;
  /** What a frame is (default raw: each read). */
  framing?: string;
  /** Writes of at most this many bytes. */
  split?: number;
  /** Milliseconds to wait before each write. */
  delay?: number;
  /** Close both sides after this many frames (both directions). */
  resetAfter?: number;
  /** Random split sizes and delays from this seed. */
  seed?: number;
  /** Stop accepting after this many clients (their connections finish). */
  maxConnections?: number;
  /**
   * Called for each frame, in order per direction. The frame's bytes are
   * valid during the call only (the proxy reads into the same memory
   * again): copy what you keep.
   */
  onFrame?: (frame: SeenFrame) => void;
  /** Called when a connection fails (the target refuses, a reset). */
  onError?: (conn: number, error: unknown) => void;
}

/** A running proxy. */
export interface Proxy {
  /** Where it listens. */
  readonly addr: Deno.Addr;
  /** Resolves when it has stopped and every connection has ended. */
  readonly finished: Promise<void>;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** mulberry32: a small seeded generator, the same numbers for the same seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The framing, wrapped to report each frame's length on the wire. */
function measured(framing: Framing<Frame>, onLength: (n: number) => void) {
  return {
    encode: (value: Frame) => framing.encode(value),
    decode(bytes: Uint8Array, offset: number) {
      const result = framing.decode(bytes, offset);
      if (result !== null) onLength(result.next - offset);
      return result;
    },
  };
}

/** What each direction reads at a time. */
const READ_BYTES = 64 * 1024;

/** Starts forwarding from `server` to the target; see {@linkcode ProxyOptions}. */
export function startProxy(options: ProxyOptions): Proxy {
  const { server } = options;
  const spec = options.framing ?? "raw";
  const chaos = options.split !== undefined || options.delay !== undefined;
  const rand = options.seed === undefined ? undefined : random(options.seed);
  const sockets = new Set<Socket>();
  const running = new Set<Promise<void>>();
  let count = 0;

  const splitSize = () =>
    rand && options.split
      ? 1 + Math.floor(rand() * options.split)
      : options.split ?? Infinity;
  const delayMs = () =>
    rand && options.delay
      ? Math.floor(rand() * (options.delay + 1))
      : options.delay ?? 0;

  async function write(to: Socket, bytes: Uint8Array): Promise<void> {
    if (!chaos) return await to.send(bytes);
    for (let offset = 0; offset < bytes.length;) {
      const wait = delayMs();
      if (wait > 0) await sleep(wait);
      const end = Math.min(bytes.length, offset + splitSize());
      await to.send(bytes.subarray(offset, end));
      await to.flush(); // each piece its own write
      offset = end;
    }
  }

  async function handle(client: Socket, conn: number): Promise<void> {
    let target: Socket;
    try {
      target = await options.connectTarget();
    } catch (error) {
      options.onError?.(conn, error);
      client.destroy();
      return;
    }
    sockets.add(client).add(target);
    let frames = 0;
    let reset = false;
    const resetBoth = () => {
      reset = true;
      client.destroy();
      target.destroy();
    };
    const pump = async (from: Socket, to: Socket, direction: Direction) => {
      const framing = parseFraming(spec) as Framing<Frame>;
      const lengths: number[] = [];
      const decoder = new FrameDecoder(
        measured(framing, (n) => lengths.push(n)),
      );
      const observe = options.onFrame !== undefined ||
        options.resetAfter !== undefined;
      // One buffer per direction, read into again and again: send copies
      // what it is given, and frames are only looked at before the next read.
      const buffer = new Uint8Array(READ_BYTES);
      for (;;) {
        const n = await from.recvInto(buffer);
        if (n === null) break;
        const chunk = buffer.subarray(0, n);
        if (!observe) {
          await write(to, chunk);
          continue;
        }
        lengths.length = 0;
        const values = decoder.push(chunk);
        const time = new Date();
        // Bytes of this chunk up to the end of the frame that hits the
        // limit go out; the rest never does.
        let forward = chunk.length;
        for (let i = 0; i < values.length; i++) {
          options.onFrame?.({
            time,
            conn,
            direction,
            wireLength: lengths[i],
            value: values[i],
          });
          if (
            options.resetAfter !== undefined && ++frames >= options.resetAfter
          ) {
            const after = lengths.slice(i + 1).reduce((a, b) => a + b, 0) +
              decoder.buffered;
            forward = chunk.length - after;
            break;
          }
        }
        if (forward > 0) await write(to, chunk.subarray(0, forward));
        if (options.resetAfter !== undefined && frames >= options.resetAfter) {
          await to.flush().catch(() => {});
          return resetBoth();
        }
      }
      await to.closeWrite();
    };
    try {
      await Promise.all([
        pump(client, target, "c>s"),
        pump(target, client, "s>c"),
      ]);
    } catch (error) {
      if (!reset) options.onError?.(conn, error);
      client.destroy();
      target.destroy();
    } finally {
      await Promise.allSettled([
        client[Symbol.asyncDispose](),
        target[Symbol.asyncDispose](),
      ]);
      sockets.delete(client);
      sockets.delete(target);
    }
  }

  const finished = (async () => {
    try {
      for await (const client of server) {
        const task = handle(client as Socket, ++count);
        running.add(task);
        task.finally(() => running.delete(task));
        if (count === options.maxConnections) break;
      }
    } finally {
      server.close();
      await Promise.allSettled([...running]);
    }
  })();

  return {
    addr: server.addr,
    finished,
    async close() {
      server.close();
      for (const socket of sockets) await socket[Symbol.asyncDispose]();
      await finished;
    },
  };
}

/** A log line for a frame: time, connection, direction, length, preview. */
export function logLine(frame: SeenFrame): string {
  const { value } = frame;
  const shown = isMessage(value)
    ? `${JSON.stringify(value.header)} body ${value.body.length} ${
      preview(value.body)
    }`
    : `${value.length} ${preview(value)}`;
  return `${
    frame.time.toISOString().slice(11, 23)
  } #${frame.conn} ${frame.direction} ${shown}`;
}

/** Opens the listener and a target opener for proxy and record. */
export async function endpoints(line: CommandLine): Promise<{
  server: Server;
  target: Address;
  connectTarget: () => Promise<Socket>;
}> {
  const listenAt = addressOf({ ...line, path: undefined }, line.args[0], 0);
  const target = addressOf({ ...line, path: undefined }, line.args[1], 1);
  const server = await bind(line, listenAt);
  return { server, target, connectTarget: () => open(line, target) };
}

/** `wire proxy LISTEN TARGET`. */
export async function proxyCommand(line: CommandLine): Promise<void> {
  const { server, target, connectTarget } = await endpoints(line);
  let log = Promise.resolve();
  const proxy = startProxy({
    server,
    connectTarget,
    framing: line.framing,
    split: line.split,
    delay: line.delay,
    resetAfter: line.resetAfter,
    seed: line.seed,
    onFrame: line.quiet ? undefined : (frame) => {
      const text = logLine(frame) + "\n";
      log = log.then(() => writeOut(text));
    },
    onError: (conn, error) =>
      status(
        `#${conn}: ${(error as Error).message}${
          (error as { code?: string }).code
            ? ` (${(error as { code: string }).code})`
            : ""
        }`,
      ),
  });
  onInterrupt(() => proxy.close());
  status(`proxying ${showAddress(proxy.addr)} to ${showAddress(target)}`);
  await proxy.finished;
  await log;
}
