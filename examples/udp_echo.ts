// A UDP echo server and client. UDP keeps message boundaries (one `sendTo`
// is one datagram is one `recvFrom`), so no framing is needed, but it has two
// surprises this shows:
//   - an empty datagram is a real datagram: it is sent, received and echoed
//     as 0 bytes (unlike TCP, where sending nothing sends nothing);
//   - a receive buffer smaller than the datagram cuts it short and the rest is
//     lost. The runtime drops it silently; `recvFrom` says so with
//     `truncated: true`. The client receives with `--max-bytes` (default 16)
//     to show it.
// The client sends with `request()`, which waits for the echo and sends
// again when none comes in time (UDP may lose either datagram).
//
// Run: deno run --allow-net=127.0.0.1 examples/udp_echo.ts server
// Run: deno run --allow-net=127.0.0.1:0,127.0.0.1:9000 examples/udp_echo.ts client
//
// The server listens on 127.0.0.1:9000 and replies to whatever port each
// client sends from, so it needs every port of 127.0.0.1. The client binds a
// port the OS picks (port 0), hence `127.0.0.1:0` in its permission; it sends
// its arguments, or three sample messages (one of them empty, one too long
// for 16 bytes). `--port 9100` changes 9000 to 9100 in the client's
// permission. With another `--host` the server needs `--allow-net=HOST,...`
// for the hosts it answers (plain `--allow-net` for `--host 0.0.0.0`), and the
// client binds the wildcard address: `--host 192.0.2.7` needs
// `--allow-net=0.0.0.0:0,192.0.2.7:9000`. UDP needs Deno's `--unstable-net`;
// this project's deno.json turns it on (`"unstable": ["net"]`).

import { bindUdp, SocketError, type UdpSocket } from "../mod.ts";
import { fail, parseCli, stopOnSigint, usageError } from "./_cli.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Messages the client sends when given none: a short one, an empty one, a long one. */
export const SAMPLE_MESSAGES: readonly string[] = [
  "hello",
  "",
  "this datagram is longer than the client's 16-byte buffer",
];

/** A running UDP echo server. */
export interface UdpEchoServer {
  readonly addr: Deno.NetAddr;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Closes the socket, which ends the receive loop. */
  close(): void;
}

/** Starts a UDP echo server: every datagram goes back to its sender. */
export function udpEchoServer(
  options: { hostname?: string; port?: number; log?: (line: string) => void },
): UdpEchoServer {
  const log = options.log ?? console.log;
  const socket: UdpSocket = bindUdp({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  const finished = (async () => {
    // The default receive size is 65535 bytes, so nothing is ever truncated
    // here; the loop ends when the socket is closed.
    for await (const { data, addr } of socket) {
      log(
        `${addr.hostname}:${addr.port} sent ${data.length} bytes: ${
          JSON.stringify(decoder.decode(data))
        }`,
      );
      try {
        await socket.sendTo(data, addr);
      } catch (error) {
        if (!(error instanceof SocketError)) throw error;
        log(`cannot reply to ${addr.hostname}:${addr.port}: ${error.message}`);
      }
    }
  })();
  return { addr: socket.addr, finished, close: () => socket.close() };
}

/** What the client got back for one message. */
export interface UdpReply {
  sent: string;
  reply: string;
  bytes: number;
  truncated: boolean;
}

/** Options for {@linkcode udpEchoClient}. */
export interface UdpEchoClientOptions {
  /** The server's address; default "127.0.0.1". */
  hostname?: string;
  port: number;
  messages: Iterable<string>;
  /** The receive buffer: longer replies come back truncated. Default 16. */
  maxBytes?: number;
  /** Milliseconds the first try waits for each reply (later tries wait 2x, 4x); default 1000. */
  timeout?: number;
  log?: (line: string) => void;
}

/** The address a client binds to reach `hostname`: the same loopback, or the wildcard. */
function bindAddressFor(hostname: string): string {
  if (hostname === "127.0.0.1" || hostname === "::1") return hostname;
  if (hostname === "localhost") return "127.0.0.1";
  return hostname.includes(":") ? "::" : "0.0.0.0";
}

/** Sends each message as one datagram and receives its echo with a small buffer. */
export async function udpEchoClient(
  options: UdpEchoClientOptions,
): Promise<UdpReply[]> {
  const log = options.log ?? console.log;
  const hostname = options.hostname ?? "127.0.0.1";
  const maxBytes = options.maxBytes ?? 16;
  using socket = bindUdp({ hostname: bindAddressFor(hostname), port: 0 });
  const replies: UdpReply[] = [];
  for (const message of options.messages) {
    const sent = encoder.encode(message);
    // UDP may lose the datagram or its echo: request() sends again after
    // each wait (1, 2, then 4 s by default), and ends with ETIMEDOUT. No
    // `match`: the tutorials' servers answer with other bytes (upper-cased,
    // or "hi"), so the reply is the first datagram from the server; a second
    // copy owed to an earlier try is dropped.
    const { data, truncated } = await socket.request(sent, {
      hostname,
      port: options.port,
    }, { maxBytes, timeout: options.timeout ?? 1000 });
    const reply = decoder.decode(data);
    replies.push({ sent: message, reply, bytes: data.length, truncated });
    let note = "";
    if (data.length === 0) note = " (an empty datagram is still a datagram)";
    if (truncated) {
      note =
        ` (truncated: longer than the ${maxBytes}-byte buffer; the rest is lost)`;
    }
    log(
      `sent ${sent.length} bytes ${
        JSON.stringify(message)
      }, got ${data.length} bytes ${JSON.stringify(reply)}${note}`,
    );
  }
  return replies;
}

const USAGE =
  `Usage: deno run --allow-net=... examples/udp_echo.ts <server|client> [options] [message...]

server  echoes every datagram to its sender (Ctrl-C stops)
        --allow-net=127.0.0.1
client  sends each message (default: three samples) as a datagram and
        prints the echo, received into a --max-bytes buffer
        --allow-net=127.0.0.1:0,127.0.0.1:9000

Options:
  --host HOST       address to bind (server) / send to (client) (default 127.0.0.1)
  --port PORT       the server's port (default 9000)
  --max-bytes N     client: receive buffer size in bytes (default 16)
  --help            show this help`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    string: { "max-bytes": "16" },
    minPort: (mode) => mode === "server" ? 0 : 1,
  });
  const [mode, ...messages] = args._;
  const maxBytes = Number(args["max-bytes"]);
  if (!/^\d+$/.test(args["max-bytes"]) || maxBytes > 65535) {
    usageError(
      USAGE,
      `--max-bytes must be from 0 to 65535, got ${args["max-bytes"]}`,
    );
  }

  if (mode === "server") {
    if (messages.length > 0) {
      usageError(USAGE, `unexpected argument ${messages[0]}`);
    }
    const server = udpEchoServer({ hostname: args.host, port: args.port });
    console.log(
      `udp echo server listening on ${server.addr.hostname}:${server.addr.port} (Ctrl-C to stop)`,
    );
    // A UDP socket has no connections to wait for: closing it is the shutdown.
    stopOnSigint({
      shutdown: () => {
        server.close();
        return server.finished;
      },
    });
    await server.finished;
  } else if (mode === "client") {
    await udpEchoClient({
      hostname: args.host,
      port: args.port,
      messages: messages.length > 0 ? messages : SAMPLE_MESSAGES,
      maxBytes,
    });
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
        ETIMEDOUT:
          " (no reply: is the server running? deno task example:udp_echo)",
      },
    });
  }
}
