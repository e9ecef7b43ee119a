// A client for the echo server (examples/echo.ts): sends each argument, or
// each line of stdin when there are none, as one length-prefixed frame
// (`sendFrame`), and prints each reply (`recvFrame`). However TCP splits or
// merges the bytes on the way, every reply comes back whole.
//
// Run: deno run --allow-net=127.0.0.1:9000 examples/echo_client.ts hello world
//
// Start the server first (`deno task example:echo`). With `--port 9100` the
// permission becomes `--allow-net=127.0.0.1:9100`; with `--host` the same
// host must be named (`--host ::1 --port 9100` needs `--allow-net=[::1]:9100`).
// Reading stdin needs no permission:
// `printf 'one\ntwo\n' | deno run --allow-net=127.0.0.1:9000 examples/echo_client.ts`
//
// Over TLS, trusting the CA in --ca (the test one in tests/fixtures), to the
// server started with --tls:
// Run: deno run --allow-net=127.0.0.1:9443 --allow-read=tests/fixtures/ca.pem examples/echo_client.ts --tls --ca tests/fixtures/ca.pem --port 9443 hello
// Over a Unix domain socket (Deno wants read, write and net=unix:
// permissions for the socket file's absolute path):
// Run: deno run --allow-read=/tmp/echo.sock --allow-write=/tmp/echo.sock --allow-net=unix:/tmp/echo.sock examples/echo_client.ts --path /tmp/echo.sock hello

import { connect, FrameError, SocketError } from "../mod.ts";
import { fail, parseCli, readLines, usageError } from "./_cli.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options for {@linkcode echoClient}. */
export interface EchoClientOptions {
  /** The echo server's address; default "127.0.0.1". */
  hostname?: string;
  /** The echo server's port. */
  port: number;
  /** Connect over TLS, trusting these CA certificates (PEM) too. */
  tls?: { caCerts?: string[]; serverName?: string };
  /** Connect to this Unix domain socket instead of a host and port. */
  path?: string;
  /** The messages to send, one frame each. */
  messages: Iterable<string> | AsyncIterable<string>;
  /** Called with each message and its reply; default: prints `echo: ...`. */
  onReply?: (message: string, reply: string) => void;
}

/**
 * Sends each message as a frame and waits for its reply.
 *
 * @returns How many replies came back.
 */
export async function echoClient(options: EchoClientOptions): Promise<number> {
  const onReply = options.onReply ??
    ((_message: string, reply: string) => console.log(`echo: ${reply}`));
  // The same socket whichever the transport: only where it connects differs.
  const timeout = 5000; // for the connect (and the TLS handshake)
  await using socket = await connect(
    options.path !== undefined ? { path: options.path, timeout } : {
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      tls: options.tls,
      timeout,
    },
  );
  socket.timeout = 5000; // for each send and receive: never hang forever
  let replies = 0;
  for await (const message of options.messages) {
    await socket.sendFrame(encoder.encode(message));
    const reply = await socket.recvFrame();
    if (reply === null) {
      throw new SocketError("EOF", "The server closed the connection");
    }
    onReply(message, decoder.decode(reply));
    replies++;
  }
  return replies;
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:9000 examples/echo_client.ts [options] [message...]

Sends each message (or each line of stdin when none is given) to the echo
server as a frame and prints the replies.

Options:
  --host HOST          the server's address (default 127.0.0.1)
  --port PORT          the server's port (default 9000)
  --tls                connect over TLS
  --ca FILE            with --tls: a CA certificate (PEM) to trust too
  --server-name NAME   with --tls: the name the certificate must carry
  --path PATH          connect to this Unix domain socket instead
  --help               show this help

The --allow-net permission must name the same HOST:PORT; --ca needs
--allow-read for the file; --path needs --allow-read, --allow-write and
--allow-net=unix:PATH for the socket file's absolute path.`;

if (import.meta.main) {
  const args = parseCli(USAGE, {
    minPort: 1,
    string: { ca: "", "server-name": "", path: "" },
    boolean: ["tls"],
  });
  if (!args.tls && (args.ca !== "" || args["server-name"] !== "")) {
    usageError(USAGE, "--ca and --server-name go with --tls");
  }
  const messages = args._.length > 0 ? args._ : readLines(Deno.stdin.readable);
  try {
    await echoClient({
      hostname: args.host,
      port: args.port,
      messages,
      ...(args.path === "" ? {} : { path: args.path }),
      ...(args.tls
        ? {
          tls: {
            ...(args.ca === ""
              ? {}
              : { caCerts: [Deno.readTextFileSync(args.ca)] }),
            ...(args["server-name"] === ""
              ? {}
              : { serverName: args["server-name"] }),
          },
        }
        : {}),
    });
  } catch (error) {
    fail(error, {
      expected: [SocketError, FrameError, TypeError, Deno.errors.NotFound],
      // A Unix socket's errors carry their own hint (no socket file there,
      // or a stale one): adding another would say it twice.
      hints: {
        ...(args.path === ""
          ? {
            ECONNREFUSED:
              " (is the echo server running? deno task example:echo)",
          }
          : {}),
        ECERT: " (pass the CA that signed it with --ca)",
      },
    });
  }
}
