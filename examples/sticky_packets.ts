// The "sticky packet" problem and its fix, side by side on loopback.
//
// TCP carries a stream of bytes, not messages. Four `send` calls are not four
// of anything at the other end: a raw `recv` returns whatever has arrived, so
// the messages come out merged into one read, or cut at any byte. Framing
// puts the boundaries back: `sendFrame` writes a length before each message
// and `recvFrame` reads exactly one message, however the bytes arrived.
//
// The output is the same on every run: the receiver starts reading only once
// the sender has written every byte and closed its side (`closeWrite`), so
// all the bytes are waiting at the receiver before the first read.
//
// Run: deno run --allow-net=127.0.0.1:9000 examples/sticky_packets.ts
//
// It listens on 127.0.0.1:9000 and connects to itself. `--port 9100` needs
// `--allow-net=127.0.0.1:9100`; `--port 0` lets the OS pick a free port, which
// needs all of `--allow-net=127.0.0.1`.

import {
  connect,
  listen,
  type StreamServer,
  type StreamSocket,
} from "../mod.ts";
import { fail, parseCli, usageError } from "./_cli.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const quote = (bytes: Uint8Array) => JSON.stringify(decoder.decode(bytes));

/** The messages sent in each round. */
export const MESSAGES: readonly string[] = [
  "apple",
  "banana",
  "cherry",
  "date",
];
/** The small `maxBytes` of the second round, to show a read cutting a message. */
export const SMALL_READ = 8;

/** Options for {@linkcode stickyPackets}. */
export interface StickyPacketsOptions {
  /** Where to listen (and connect); default "127.0.0.1". */
  hostname?: string;
  /** Port; default 0 (the OS picks). */
  port?: number;
  log?: (line: string) => void;
}

/** What each round's reads returned. */
export interface StickyPacketsResult {
  /** Round 1: `recv()`. */
  merged: string[];
  /** Round 2: `recv(SMALL_READ)`. */
  split: string[];
  /** Round 3: `recvFrame()`. */
  framed: string[];
}

/**
 * Opens a connection to `server`, lets `send` write on it, closes the write
 * side (which flushes every byte first), and hands the accepted end to
 * `receive`.
 */
async function round<T>(
  server: StreamServer,
  send: (socket: StreamSocket) => Promise<void>,
  receive: (socket: StreamSocket) => Promise<T>,
): Promise<T> {
  const { hostname, port } = server.addr;
  await using sender = await connect({ hostname, port, timeout: 5000 });
  await using receiver = await server.accept();
  receiver.timeout = 5000;
  await send(sender);
  // Every byte is now written, and the FIN after them: on loopback they all
  // sit in the receiver's kernel buffer before it reads anything.
  await sender.closeWrite();
  return await receive(receiver);
}

/** Runs the three rounds and prints what each read returned. */
export async function stickyPackets(
  options: StickyPacketsOptions = {},
): Promise<StickyPacketsResult> {
  const log = options.log ?? console.log;
  await using server = listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  const total = MESSAGES.reduce((n, m) => n + encoder.encode(m).length, 0);
  const sent = `${MESSAGES.map((m) => JSON.stringify(m)).join(", ")}`;

  const readAll = async (
    socket: StreamSocket,
    label: string,
    maxBytes?: number,
  ) => {
    const reads: string[] = [];
    for (let chunk; (chunk = await socket.recv(maxBytes)) !== null;) {
      reads.push(decoder.decode(chunk));
      log(
        `  ${label} #${reads.length} returned ${chunk.length} bytes: ${
          quote(chunk)
        }`,
      );
    }
    return reads;
  };

  log(`1. Raw bytes: ${MESSAGES.length} send() calls, read back with recv()`);
  log(`  sent ${sent} (${total} bytes)`);
  const merged = await round(server, async (socket) => {
    for (const message of MESSAGES) await socket.send(message);
  }, (socket) => readAll(socket, "recv()"));
  log(
    `  => ${MESSAGES.length} messages came out as ${merged.length} read${
      merged.length === 1 ? "" : "s"
    }: the boundaries are gone`,
  );

  log(
    `2. The same, read with recv(${SMALL_READ}): a read can cut a message too`,
  );
  const split = await round(server, async (socket) => {
    for (const message of MESSAGES) await socket.send(message);
  }, (socket) => readAll(socket, `recv(${SMALL_READ})`, SMALL_READ));
  log(`  => no read lines up with a message`);

  log(`3. The fix: sendFrame() each message, read back with recvFrame()`);
  const framed = await round(server, async (socket) => {
    for (const message of MESSAGES) {
      await socket.sendFrame(encoder.encode(message));
    }
  }, async (socket) => {
    const frames: string[] = [];
    for (let frame; (frame = await socket.recvFrame()) !== null;) {
      frames.push(decoder.decode(frame));
      log(`  recvFrame() #${frames.length} returned ${quote(frame)}`);
    }
    return frames;
  });
  log(
    `  => ${MESSAGES.length} messages came out as ${framed.length} frames, exactly as sent`,
  );
  return { merged, split, framed };
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:9000 examples/sticky_packets.ts [options]

Shows TCP merging and splitting messages, then framing fixing it.

Options:
  --host HOST  address to listen on and connect to (default 127.0.0.1)
  --port PORT  port (default 9000; 0 picks a free one)
  --help       show this help

The --allow-net permission must name the same HOST:PORT.`;

if (import.meta.main) {
  const args = parseCli(USAGE);
  if (args._.length > 0) usageError(USAGE, `unexpected argument ${args._[0]}`);
  try {
    await stickyPackets({ hostname: args.host, port: args.port });
  } catch (error) {
    fail(error);
  }
}
