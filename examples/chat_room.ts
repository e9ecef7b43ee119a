// A line-based chat room. Every line one client sends goes to all the others
// as "name: text"; everyone is told when someone joins or leaves. The first
// line a client sends is its name; a line may be 4 KiB long (a longer one
// disconnects its sender). Plain text lines, so `nc 127.0.0.1 9000` is a
// client too; the `client` mode here sends `--name` and then stdin,
// printing what the room says.
//
// Run: deno run --allow-net=127.0.0.1:9000 examples/chat_room.ts server
// Run: deno run --allow-net=127.0.0.1:9000 examples/chat_room.ts client --name ada
//
// `--port 9100` needs `--allow-net=127.0.0.1:9100` on both sides; to let
// other machines in, `--host 0.0.0.0` needs `--allow-net=0.0.0.0:9000` for
// the server. Ctrl-C stops the server; Ctrl-D (end of input) leaves the room.
//
// Every member's queue is bounded, and nobody waits for anybody, the way IRC
// servers treat a client's SendQ:
// - Lines to a member are copied into its socket's write buffer (1 MiB,
//   `highWaterMark`). Once that is full, further lines wait in pending
//   `send`s; the room counts their bytes as the member's backlog.
// - A member whose backlog passes 1 MiB (MAX_BACKLOG) is dropped at once:
//   its socket is destroyed, which frees what it was owed, and the others
//   are told it left. A talker never waits for a member, so a member that
//   stops reading holds up nobody's lines, not even once; a member that
//   reads more slowly than the room talks for long enough to fall 2 MiB
//   behind is dropped, and one that keeps up loses nothing.
// One member's queue thus holds at most about 2 MiB plus one line.

import {
  connect,
  delimited,
  FrameError,
  serve,
  SocketError,
  type StreamServer,
  type StreamSocket,
} from "../mod.ts";
import { fail, parseCli, readLines, stopOnSigint, usageError } from "./_cli.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** What a member says: one line, 4 KiB at most; a longer one disconnects it. */
const said = delimited({ maxFrameBytes: 4096 });
/**
 * What the room sends: a line said, after its sender's name (at most 32
 * characters and a "-2" to tell it apart), or a notice.
 */
const relayed = delimited({ maxFrameBytes: 8192 });
const NEWLINE = encoder.encode("\n");
/** A welcome names this many members at most, then counts the rest. */
const LIST_NAMES = 20;
/** Bytes of lines a member may have waiting beyond its write buffer (its SendQ). */
const MAX_BACKLOG = 1024 * 1024;

/** A member of the room. */
interface Member {
  name: string;
  /** Bytes of lines handed to its socket whose `send` has not settled. */
  backlog: number;
  /** Why the room dropped it, once it has. */
  dropped?: string;
}

/** Whether a line is empty or only whitespace (decoded only when it starts with some). */
function isBlank(line: Uint8Array): boolean {
  const first = line[0];
  const space = first === 0x20 || (first >= 0x09 && first <= 0x0d) ||
    first >= 0x80; // maybe a Unicode space
  return line.length === 0 || (space && decoder.decode(line).trim() === "");
}

/** Starts the chat server. */
export function chatServer(
  options: { hostname?: string; port?: number; log?: (line: string) => void },
): StreamServer {
  const log = options.log ?? console.log;
  const members = new Map<StreamSocket, Member>();
  let guests = 0;

  /**
   * Sends a line, given as pieces, to every member except `from`, and drops
   * each member it puts past MAX_BACKLOG. Never waits.
   */
  const broadcast = (pieces: Uint8Array[], from?: StreamSocket) => {
    for (const [socket, member] of members) {
      if (socket === from || member.dropped !== undefined) continue;
      deliver(socket, member, pieces);
      if (member.backlog > MAX_BACKLOG) {
        drop(socket, member, `over ${MAX_BACKLOG} bytes behind (SendQ)`);
      }
    }
  };
  const notice = (text: string, from?: StreamSocket) => {
    broadcast([encoder.encode(`${text}\n`)], from);
  };
  /**
   * Hands a line to the member's socket. Each `send` copies its piece into
   * the write buffer, in call order, so the pieces leave together and no
   * array is made per line (a flood of them would be garbage for the GC). The
   * last promise settles once they all have room, or with the write error.
   */
  const deliver = (
    socket: StreamSocket,
    member: Member,
    pieces: Uint8Array[],
  ) => {
    let length = 0;
    for (let i = 0; i < pieces.length - 1; i++) {
      socket.send(pieces[i]).catch(() => {}); // the last one reports it
      length += pieces[i].length;
    }
    const last = pieces[pieces.length - 1];
    length += last.length;
    member.backlog += length;
    socket.send(last).then(() => {
      member.backlog -= length;
    }, (error) => drop(socket, member, `cannot write to it: ${error.message}`));
  };
  /** Closes a member's socket at once, freeing what it was owed; its handler then ends. */
  const drop = (socket: StreamSocket, member: Member, reason: string) => {
    member.dropped ??= reason;
    socket.destroy();
  };

  return serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    framing: said,
    shutdownTimeout: 1000,
    onError: (error) => log(`a client failed: ${error}`),
  }, async (socket) => {
    const first = await socket.recvFrame();
    if (first === null) return;
    let name = decoder.decode(first).trim().slice(0, 32) || `guest${++guests}`;
    const others = [...members.values()].map((member) => member.name);
    const taken = new Set(others);
    for (let n = 2; taken.has(name); n++) {
      name = `${name.replace(/-\d+$/, "")}-${n}`;
    }
    const member: Member = { name, backlog: 0 };
    members.set(socket, member);
    log(
      `${name} joined from ${socket.remoteAddr.hostname}:${socket.remoteAddr.port}`,
    );
    const listed = others.slice(0, LIST_NAMES).join(", ") +
      (others.length > LIST_NAMES
        ? ` and ${others.length - LIST_NAMES} more`
        : "");
    await socket.sendFrame(
      encoder.encode(
        `* welcome, ${name}; ${
          others.length === 0 ? "nobody else is here" : `here: ${listed}`
        }`,
      ),
      relayed,
    );
    notice(`* ${name} joined`, socket);
    const prefix = encoder.encode(`${name}: `);
    try {
      for await (const line of socket.frames()) {
        if (isBlank(line)) continue;
        // The name, then the bytes as they came.
        broadcast([prefix, line, NEWLINE], socket);
      }
    } catch (error) {
      // Dropped: its socket was destroyed under the loop. Not a failure.
      if (member.dropped === undefined) throw error;
    } finally {
      members.delete(socket);
      log(
        member.dropped === undefined
          ? `${name} left`
          : `${name} left (dropped: ${member.dropped})`,
      );
      notice(`* ${name} left`);
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
    framing: relayed,
  });
  await socket.sendFrame(encoder.encode(options.name), said);
  const writing = (async () => {
    for await (const line of options.input) {
      if (line.trim() !== "") {
        await socket.sendFrame(encoder.encode(line), said);
      }
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
