// A TCP echo server: every byte a client sends comes straight back, so it
// speaks any protocol (the length-prefixed frames of echo_client.ts, or lines
// typed into `nc 127.0.0.1 9000`). `serve` runs one handler per client, so
// many clients are served at once; Ctrl-C shuts it down cleanly (exit 0).
//
// Run: deno run --allow-net=127.0.0.1:9000 examples/echo.ts
//
// Plain `deno run --allow-net examples/echo.ts` works too, but lets the
// program reach any host. The permission follows the flags: `--port 9100`
// needs `--allow-net=127.0.0.1:9100`; `--host 0.0.0.0 --port 9100` (every
// interface, reachable from other machines) needs `--allow-net=0.0.0.0:9100`.
// Then, in another terminal: `deno task example:echo_client hello world`.

import { parseArgs } from "@std/cli/parse-args";
import { serve, type Server, SocketError } from "../mod.ts";

/** Options for {@linkcode echoServer}. */
export interface EchoServerOptions {
  /** Address to listen on; default "127.0.0.1". */
  hostname?: string;
  /** Port to listen on; default 0 (the OS picks one: see `addr.port`). */
  port?: number;
  /** Where the server reports connections; default `console.log`. */
  log?: (line: string) => void;
}

/** Starts an echo server; stop it with `shutdown()`. */
export function echoServer(options: EchoServerOptions = {}): Server {
  const log = options.log ?? console.log;
  return serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    shutdownTimeout: 1000, // Ctrl-C should not wait long for idle clients
  }, async (socket) => {
    const peer = `${socket.remoteAddr.hostname}:${socket.remoteAddr.port}`;
    log(`${peer} connected`);
    let echoed = 0;
    try {
      // recv() returns whatever has arrived (never an empty array) and null
      // once the client has closed its side.
      for (let chunk; (chunk = await socket.recv()) !== null;) {
        await socket.send(chunk); // sends every byte, like Python's sendall
        echoed += chunk.length;
      }
    } finally {
      // A client that resets or vanishes ends the handler quietly: `serve`
      // does not report it as an error.
      log(`${peer} left after ${echoed} bytes`);
    }
  });
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:9000 examples/echo.ts [options]

A TCP echo server. Ctrl-C stops it.

Options:
  --host HOST  address to listen on (default 127.0.0.1)
  --port PORT  port to listen on (default 9000)
  --help       show this help

The --allow-net permission must name the same HOST:PORT.`;

/** Prints `message` and the usage to stderr, then exits with status 2. */
function usageError(message: string): never {
  console.error(`error: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

if (import.meta.main) {
  const args: { host: string; port: string; help: boolean; _: string[] } =
    parseArgs(Deno.args, {
      string: ["host", "port", "_"],
      boolean: ["help"],
      default: { host: "127.0.0.1", port: "9000" },
      unknown: (arg: string) =>
        !arg.startsWith("-") || usageError(`unknown option ${arg}`),
    });
  if (args.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const port = Number(args.port);
  if (!/^\d+$/.test(args.port) || port > 65535) {
    usageError(`--port must be a number from 0 to 65535, got ${args.port}`);
  }
  if (args._.length > 0) usageError(`unexpected argument ${args._[0]}`);

  let server: Server;
  try {
    server = echoServer({ hostname: args.host, port });
  } catch (error) {
    // EADDRINUSE (another server has the port), or EPERM: the --allow-net
    // flag does not name this address.
    if (!(error instanceof SocketError)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exit(1);
  }
  console.log(
    `echo server listening on ${server.addr.hostname}:${server.addr.port} (Ctrl-C to stop)`,
  );
  const stop = () => {
    // A second Ctrl-C gets the default behaviour: exit at once.
    Deno.removeSignalListener("SIGINT", stop);
    console.log("shutting down");
    server.shutdown().then(() => console.log("stopped"));
  };
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
}
