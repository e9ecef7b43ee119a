// The "telephone" pair from Python socket tutorials, in one file: the client
// reads lines from stdin and sends each one; the server answers each in upper
// case. It fixes that tutorial's classic bugs:
//   - empty input: Python's `send(b"")` sends nothing, so the client then
//     waits forever for a reply. Here an empty line is skipped on the client.
//   - message boundaries: lines are framed with `delimited()` ("\n"), so two
//     quick lines never arrive as one message, nor one line as two.
//   - a client that quits or is killed (Ctrl-C, `kill -9`) only ends its own
//     connection; `serve` keeps the server running for the others.
//
// Run: deno run --allow-net=127.0.0.1:9000 examples/upper_chat.ts server
// Run: deno run --allow-net=127.0.0.1:9000 examples/upper_chat.ts client
//
// Both sides take `--host` and `--port`, and the permission follows them:
// `--port 9100` needs `--allow-net=127.0.0.1:9100`. Ctrl-C stops the server;
// Ctrl-D (end of input) or Ctrl-C ends the client.

import {
  connect,
  delimited,
  FrameError,
  serve,
  SocketError,
  type StreamServer,
} from "../mod.ts";
import { fail, parseCli, readLines, stopOnSigint, usageError } from "./_cli.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** One message per line. The server drops a client whose line passes 64 KiB. */
const lines = delimited({ maxFrameBytes: 64 * 1024 });

/** Starts the upper-casing server. */
export function upperServer(
  options: { hostname?: string; port?: number; log?: (line: string) => void },
): StreamServer {
  const log = options.log ?? console.log;
  return serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    framing: lines,
    shutdownTimeout: 1000,
    onError: (error) => log(`a client failed: ${error}`),
  }, async (socket) => {
    const peer = `${socket.remoteAddr.hostname}:${socket.remoteAddr.port}`;
    log(`${peer} connected`);
    let how = "disconnected";
    try {
      for await (const line of socket.frames()) {
        const text = decoder.decode(line);
        log(`${peer} sent ${JSON.stringify(text)}`);
        await socket.sendFrame(encoder.encode(text.toUpperCase()));
      }
    } catch (error) {
      // A killed client usually just closes (the loop above ends); one that
      // had unread data resets the connection; one may stop mid-line. Only
      // this connection ends: `serve` goes on with the others.
      if (error instanceof SocketError) how = `was cut off (${error.code})`;
      else if (
        error instanceof FrameError && error.code === "INCOMPLETE_FRAME"
      ) {
        how = "quit in the middle of a line";
      } else throw error;
    } finally {
      log(`${peer} ${how}`);
    }
  });
}

/** Options for {@linkcode upperClient}. */
export interface UpperClientOptions {
  hostname?: string;
  port: number;
  /** The input lines. */
  input: AsyncIterable<string> | Iterable<string>;
  /** Receives each reply; default: printed. */
  onReply?: (reply: string) => void;
  /** Called before each line is read, e.g. to print a prompt. */
  onPrompt?: () => void;
  /** Told about skipped empty lines. */
  onSkip?: () => void;
}

/** Sends each non-empty line and waits for its upper-cased reply. */
export async function upperClient(options: UpperClientOptions): Promise<void> {
  const onReply = options.onReply ?? ((reply: string) => console.log(reply));
  await using socket = await connect({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    timeout: 5000,
    framing: lines,
  });
  socket.timeout = 10_000; // a reply that never comes is an error, not a hang
  options.onPrompt?.();
  for await (const line of options.input) {
    if (line.trim() === "") {
      // Nothing to send: sending nothing and waiting for an answer to it is
      // how the Python tutorial client hangs. Skip it.
      options.onSkip?.();
    } else {
      await socket.sendFrame(encoder.encode(line));
      const reply = await socket.recvFrame();
      if (reply === null) {
        throw new SocketError("EOF", "The server closed the connection");
      }
      onReply(decoder.decode(reply));
    }
    options.onPrompt?.();
  }
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:9000 examples/upper_chat.ts <server|client> [options]

server  answers each line in upper case, for any number of clients (Ctrl-C stops)
client  sends each line of stdin and prints the reply (Ctrl-D ends)

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
    const server = upperServer({ hostname: args.host, port: args.port });
    console.log(
      `upper-case server listening on ${server.addr.hostname}:${server.addr.port} (Ctrl-C to stop)`,
    );
    stopOnSigint(server);
    await server.finished;
  } else if (mode === "client") {
    const interactive = Deno.stdin.isTerminal();
    const prompt = encoder.encode("> ");
    await upperClient({
      hostname: args.host,
      port: args.port,
      input: readLines(Deno.stdin.readable),
      onPrompt: interactive ? () => Deno.stdout.writeSync(prompt) : undefined,
      onSkip: () => console.error("(empty line skipped: type some text)"),
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
    fail(error, { expected: [SocketError, FrameError] });
  }
}
