// A line-based chat room. Every line one client sends goes to all the others
// as "name: text"; everyone is told when someone joins or leaves. The first
// line a client sends is its name. Plain text lines, so `nc 127.0.0.1 9000`
// is a client too; the `client` mode here sends `--name` and then stdin,
// printing what the room says.
//
// Run: deno run --allow-net=127.0.0.1:9000 examples/chat_room.ts server
// Run: deno run --allow-net=127.0.0.1:9000 examples/chat_room.ts client --name ada
//
// `--port 9100` needs `--allow-net=127.0.0.1:9100` on both sides; to let
// other machines in, `--host 0.0.0.0` needs `--allow-net=0.0.0.0:9000` for
// the server. Ctrl-C stops the server; Ctrl-D (end of input) leaves the room.
//
// A client that stops reading does not stall the room: each line to it is
// buffered by its socket, and a client whose buffer stays full for 10 s is
// dropped.

import {
  connect,
  delimited,
  FrameError,
  serve,
  type Server,
  SocketError,
  type TcpSocket,
} from "../mod.ts";
import { fail, parseCli, readLines, stopOnSigint, usageError } from "./_cli.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** One message per line, 4 KiB at most: a longer one disconnects its sender. */
const lines = delimited({ maxFrameBytes: 4096 });
/** How long a line may wait for a slow client's buffer to drain. */
const SLOW_CLIENT_MS = 10_000;

/** Starts the chat server. */
export function chatServer(
  options: { hostname?: string; port?: number; log?: (line: string) => void },
): Server {
  const log = options.log ?? console.log;
  const members = new Map<TcpSocket, string>();
  let guests = 0;

  /** Sends `text` to every member except `from`, without waiting on any one of them. */
  const broadcast = (text: string, from?: TcpSocket) => {
    const line = encoder.encode(text);
    for (const member of members.keys()) {
      if (member !== from) deliver(member, line);
    }
  };
  const deliver = (member: TcpSocket, line: Uint8Array) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("too slow to read")),
        SLOW_CLIENT_MS,
      );
    });
    Promise.race([member.sendFrame(line), slow])
      .catch(() => member.destroy()) // its handler then ends: "left"
      .finally(() => clearTimeout(timer));
  };

  return serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    framing: lines,
    shutdownTimeout: 1000,
    onError: (error) => log(`a client failed: ${error}`),
  }, async (socket) => {
    const first = await socket.recvFrame();
    if (first === null) return;
    let name = decoder.decode(first).trim().slice(0, 32) || `guest${++guests}`;
    const taken = new Set(members.values());
    for (let n = 2; taken.has(name); n++) {
      name = `${name.replace(/-\d+$/, "")}-${n}`;
    }
    const others = [...members.values()];
    members.set(socket, name);
    log(
      `${name} joined from ${socket.remoteAddr.hostname}:${socket.remoteAddr.port}`,
    );
    await socket.sendFrame(encoder.encode(
      `* welcome, ${name}; ${
        others.length === 0
          ? "nobody else is here"
          : `here: ${others.join(", ")}`
      }`,
    ));
    broadcast(`* ${name} joined`, socket);
    try {
      for await (const line of socket.frames()) {
        const text = decoder.decode(line);
        if (text.trim() === "") continue;
        broadcast(`${name}: ${text}`, socket);
      }
    } finally {
      members.delete(socket);
      log(`${name} left`);
      broadcast(`* ${name} left`);
    }
  });
}

/** Options for {@linkcode chatClient}. */
export interface ChatClientOptions {
  hostname?: string;
  port: number;
  name: string;
  /** The lines to send. */
  input: AsyncIterable<string> | Iterable<string>;
  /** Each line the room sends; default: printed. */
  onLine?: (line: string) => void;
}

/**
 * Joins the room as `name`, sends every input line, and reports what the
 * room says. At the end of input it closes its write side: the server sees
 * it leave and closes the connection, which ends the call. It also ends when
 * the server goes away first; the input is then no longer read.
 */
export async function chatClient(options: ChatClientOptions): Promise<void> {
  const onLine = options.onLine ?? ((line: string) => console.log(line));
  await using socket = await connect({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    timeout: 5000,
    framing: lines,
  });
  await socket.sendFrame(encoder.encode(options.name));
  const writing = (async () => {
    for await (const line of options.input) {
      if (line.trim() !== "") await socket.sendFrame(encoder.encode(line));
    }
    await socket.closeWrite();
  })().catch((error) => {
    // The server went away while we were sending: reading ends too.
    if (!(error instanceof SocketError)) throw error;
  });
  for await (const line of socket.frames()) onLine(decoder.decode(line));
  // The server closed the connection. If input ended first, `writing` is
  // done; if not, it waits for a line that no longer matters: leave it.
  void writing;
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:9000 examples/chat_room.ts <server|client> [options]

server  runs the room (Ctrl-C stops)
client  joins as --name, sends each line of stdin, prints the room (Ctrl-D leaves)

Options:
  --host HOST  address to listen on / connect to (default 127.0.0.1)
  --port PORT  port (default 9000)
  --name NAME  client: your name in the room (default: guestN)
  --help       show this help

The --allow-net permission must name the same HOST:PORT.`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    string: { name: "" },
    maxArgs: 1, // the mode
    minPort: (mode) => mode === "server" ? 0 : 1,
  });
  const [mode] = args._;

  if (mode === "server") {
    const server = chatServer({ hostname: args.host, port: args.port });
    console.log(
      `chat room listening on ${server.addr.hostname}:${server.addr.port} (Ctrl-C to stop)`,
    );
    stopOnSigint(server);
    await server.finished;
  } else if (mode === "client") {
    await chatClient({
      hostname: args.host,
      port: args.port,
      name: args.name,
      input: readLines(Deno.stdin.readable),
    });
    // A pending read of stdin would keep the process alive after the server
    // has gone away.
    Deno.exit(0);
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
