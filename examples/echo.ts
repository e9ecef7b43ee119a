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

import { serve, type Server } from "../mod.ts";
import { fail, parseCli, stopOnSigint, usageError } from "./_cli.ts";

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

if (import.meta.main) {
  const args = parseCli(USAGE);
  if (args._.length > 0) usageError(USAGE, `unexpected argument ${args._[0]}`);

  let server: Server;
  try {
    server = echoServer({ hostname: args.host, port: args.port });
  } catch (error) {
    // EADDRINUSE (another server has the port), or EPERM: the --allow-net
    // flag does not name this address.
    fail(error);
  }
  console.log(
    `echo server listening on ${server.addr.hostname}:${server.addr.port} (Ctrl-C to stop)`,
  );
  stopOnSigint(server);
  await server.finished;
}
