// The "telephone" pair of the Python socket tutorials, ported as it is: the
// unframed "low version". The server runs the tutorial's two loops: the
// connection loop (accept a caller, talk, hang up, accept the next one) and
// the communication loop (receive up to 1024 bytes, print them, reply with
// them upper-cased). The client sends each line of stdin as it is (no
// newline, no header) and prints up to 1024 bytes of reply. It speaks with
// the tutorial's own Python programs both ways.
//
// Run: deno run --allow-net=127.0.0.1:9000 examples/phone.ts server
// Run: deno run --allow-net=127.0.0.1:9000 examples/phone.ts client
//
// Both sides take `--host` and `--port`, and the permission follows them:
// `--port 9100` needs `--allow-net=127.0.0.1:9100`. Ctrl-C stops the server;
// Ctrl-D (end of input) or Ctrl-C ends the client.
//
// What it shows is where sticky packets bite. TCP carries bytes, not
// messages, and nothing here marks where one message ends:
//   - a line longer than 1024 bytes reaches the server in two or more
//     receives, so it is answered in two or more replies; the client prints
//     only the first 1024 bytes, and the rest comes out after its next line,
//     one reply late (the tutorial's "run `dir` remotely" demonstration);
//   - two messages sent quickly (the client piping several lines, or any
//     program that sends without waiting for a reply) can arrive as one
//     receive and be answered as one reply.
// `upper_chat.ts` is the framed version of this pair: it marks the end of
// each message with "\n", so neither can happen. The tutorials' own fix, a
// 4-byte `struct.pack("i", n)` length before each message, is
// `lengthPrefixed({ littleEndian: true })` (see `sticky_packets.ts`).
//
// Like the tutorial's server, this one talks to one caller at a time: a
// second caller waits in the listen queue until the first hangs up (`serve`,
// as in upper_chat.ts, answers them all at once). A caller that hangs up or
// resets the connection, or is killed, only ends its own call. The client
// skips empty lines: sending nothing sends nothing, and then waiting for a
// reply is how the tutorial's client hangs.

import { connect, listen, SocketError, type StreamSocket } from "../mod.ts";
import { fail, parseCli, readLines, stopOnSigint, usageError } from "./_cli.ts";

/** The tutorial's BUFSIZE: the most one receive takes, and the reply's size. */
export const BUFSIZE = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `bytes` with a-z made A-Z and every other byte kept, as Python's
 * `bytes.upper()` does: a reply is as long as the request, and a UTF-8
 * character cut in two by the 1024-byte receive passes through intact.
 */
export function upperAscii(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    out[i] = byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte;
  }
  return out;
}

/** A running phone server. */
export interface PhoneServer {
  /** The address listened on (with the port the OS picked). */
  readonly addr: Deno.NetAddr;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Stops listening, hangs up on the current caller; resolves when stopped. */
  shutdown(): Promise<void>;
}

/**
 * The communication loop with one caller: receive up to {@linkcode BUFSIZE}
 * bytes, log them, send them back upper-cased, until the caller hangs up.
 */
async function talk(
  socket: StreamSocket,
  log: (line: string) => void,
): Promise<void> {
  const peer = `${socket.remoteAddr.hostname}:${socket.remoteAddr.port}`;
  log(`client: ${peer}`);
  try {
    for (;;) {
      // Whatever bytes have arrived, up to 1024: part of a message, one
      // message, or several run together. This is the "low version".
      const data = await socket.recv(BUFSIZE);
      if (data === null) {
        log(`${peer} hung up`);
        return;
      }
      log(`from client ${peer}: ${JSON.stringify(decoder.decode(data))}`);
      await socket.send(upperAscii(data));
    }
  } catch (error) {
    // The caller reset the connection (killed, or closed with our reply
    // unread): this call ends, the server goes on. ECLOSED: we hung up on it
    // because the server is stopping.
    if (!(error instanceof SocketError)) throw error;
    log(
      error.code === "ECLOSED"
        ? `hung up on ${peer}: the server is stopping`
        : `${peer} was cut off (${error.code})`,
    );
  } finally {
    socket.close();
  }
}

/** Starts the phone server: one caller at a time, until shut down. */
export function phoneServer(
  options: { hostname?: string; port?: number; log?: (line: string) => void },
): PhoneServer {
  const log = options.log ?? console.log;
  const server = listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  let caller: StreamSocket | undefined;
  const finished = (async () => {
    // The connection loop: ends when the server is closed.
    for await (const socket of server) {
      caller = socket;
      await talk(socket, log);
      caller = undefined;
    }
  })();
  return {
    addr: server.addr,
    finished,
    shutdown() {
      server.close();
      caller?.close();
      return finished;
    },
  };
}

/** Options for {@linkcode phoneClient}. */
export interface PhoneClientOptions {
  /** The server's address; default "127.0.0.1". */
  hostname?: string;
  port: number;
  /** The lines to send, each without its line ending. */
  input: AsyncIterable<string> | Iterable<string>;
  /** Receives each reply (up to 1024 bytes); default: printed as text. */
  onReply?: (reply: Uint8Array) => void;
  /** Called before each line is read, e.g. to print a prompt. */
  onPrompt?: () => void;
  /** Told about skipped empty lines. */
  onSkip?: () => void;
}

/**
 * Sends each non-empty line as it is and receives up to {@linkcode BUFSIZE}
 * bytes after each: one `recv`, not one message (see the header).
 *
 * @throws {SocketError} `EOF` when the server hangs up before a reply.
 */
export async function phoneClient(options: PhoneClientOptions): Promise<void> {
  const onReply = options.onReply ??
    ((reply: Uint8Array) => console.log(decoder.decode(reply)));
  await using socket = await connect({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    timeout: 5000,
  });
  socket.timeout = 10_000; // a reply that never comes is an error, not a hang
  options.onPrompt?.();
  for await (const line of options.input) {
    if (line === "") {
      options.onSkip?.();
    } else {
      await socket.send(encoder.encode(line));
      const reply = await socket.recv(BUFSIZE);
      if (reply === null) {
        throw new SocketError("EOF", "The server hung up");
      }
      onReply(reply);
    }
    options.onPrompt?.();
  }
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:9000 examples/phone.ts <server|client> [options]

server  receives up to 1024 bytes at a time and sends them back upper-cased,
        one client at a time (Ctrl-C stops)
client  sends each line of stdin as it is (no newline) and prints up to 1024
        bytes of reply (Ctrl-D ends)

Options:
  --host HOST  address to listen on / connect to (default 127.0.0.1)
  --port PORT  port (default 9000)
  --help       show this help

The --allow-net permission must name the same HOST:PORT.`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    maxArgs: 1, // the mode
    minPort: (mode) => mode === "server" ? 0 : 1,
  });
  const [mode] = args._;

  if (mode === "server") {
    const server = phoneServer({ hostname: args.host, port: args.port });
    console.log(
      `phone server listening on ${server.addr.hostname}:${server.addr.port} (Ctrl-C to stop)`,
    );
    stopOnSigint(server);
    await server.finished;
  } else if (mode === "client") {
    const interactive = Deno.stdin.isTerminal();
    const prompt = encoder.encode(">>>: ");
    await phoneClient({
      hostname: args.host,
      port: args.port,
      input: readLines(Deno.stdin.readable),
      onPrompt: interactive ? () => Deno.stdout.writeSync(prompt) : undefined,
      onSkip: () =>
        console.error("(empty line skipped: sending nothing sends nothing)"),
    });
    if (interactive) console.log();
  } else {
    usageError(USAGE, mode ? `unknown mode ${mode}` : "say server or client");
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    fail(error, {
      hints: {
        ECONNREFUSED: " (is the phone server running? deno task example:phone)",
      },
    });
  }
}
