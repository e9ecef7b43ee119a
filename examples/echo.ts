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
//
// Over TLS (--tls, with the certificate and key files; the test certificate
// in tests/fixtures is for localhost and 127.0.0.1):
// Run: deno run --allow-net=127.0.0.1:9443 --allow-read=tests/fixtures examples/echo.ts --tls --cert tests/fixtures/localhost.pem --key tests/fixtures/localhost.key --port 9443
// Over a Unix domain socket (--path; Deno wants read, write and
// net=unix: permissions for the socket file's absolute path):
// Run: deno run --allow-read=/tmp/echo.sock --allow-write=/tmp/echo.sock --allow-net=unix:/tmp/echo.sock examples/echo.ts --path /tmp/echo.sock
// A socket file left by a server that was killed (kill -9) is refused
// (EADDRINUSE): remove it yourself.

import { serve, type StreamServer, type TlsListenOptions } from "../mod.ts";
import { fail, parseCli, stopOnSigint, usageError } from "./_cli.ts";

/** Options for {@linkcode echoServer}. */
export interface EchoServerOptions {
  /** Address to listen on; default "127.0.0.1". */
  hostname?: string;
  /** Port to listen on; default 0 (the OS picks one: see `addr.port`). */
  port?: number;
  /** Where the server reports connections; default `console.log`. */
  log?: (line: string) => void;
  /** Serve TLS with this certificate and key (PEM strings). */
  tls?: TlsListenOptions;
  /** Listen on this Unix domain socket path instead of a TCP port. */
  path?: string;
}

/** How a peer's address reads in the log: `host:port`, or the Unix socket. */
function describe(addr: Deno.Addr): string {
  if ("path" in addr) return addr.path ? `unix:${addr.path}` : "a unix client";
  if (addr.transport === "vsock") return `vsock:${addr.cid}:${addr.port}`;
  return `${addr.hostname}:${addr.port}`;
}

/** Starts an echo server on a Unix socket; stop it with `shutdown()`. */
export function echoServer(
  options: EchoServerOptions & { path: string },
): StreamServer<Uint8Array, Deno.UnixAddr>;
/** Starts an echo server (TCP, or TLS with `tls`); stop it with `shutdown()`. */
export function echoServer(
  options?: EchoServerOptions & { path?: undefined },
): StreamServer;
export function echoServer(
  options: EchoServerOptions = {},
): StreamServer | StreamServer<Uint8Array, Deno.UnixAddr> {
  const log = options.log ?? console.log;
  // Ctrl-C should not wait long for idle clients.
  const shutdownTimeout = 1000;
  // The same serve() and handler for the three transports: only where it
  // listens differs.
  const where = options.path !== undefined
    ? { path: options.path, shutdownTimeout }
    : {
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      tls: options.tls,
      shutdownTimeout,
    };
  return serve(where, async (socket) => {
    const peer = describe(socket.remoteAddr);
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

A TCP echo server (or TLS, or a Unix domain socket). Ctrl-C stops it.

Options:
  --host HOST   address to listen on (default 127.0.0.1)
  --port PORT   port to listen on (default 9000)
  --tls         serve TLS, with --cert and --key
  --cert FILE   the certificate chain (PEM)
  --key FILE    its private key (PEM)
  --path PATH   listen on this Unix domain socket instead of a port
  --help        show this help

The --allow-net permission must name the same HOST:PORT; --tls needs
--allow-read for the two files; --path needs --allow-read, --allow-write and
--allow-net=unix:PATH for the socket file's absolute path.`;

if (import.meta.main) {
  const args = parseCli(USAGE, {
    string: { cert: "", key: "", path: "" },
    boolean: ["tls"],
  });
  if (args._.length > 0) usageError(USAGE, `unexpected argument ${args._[0]}`);
  if (args.tls && (args.cert === "" || args.key === "")) {
    usageError(USAGE, "--tls needs --cert and --key");
  }
  if (args.tls && args.path !== "") {
    usageError(USAGE, "--tls and --path do not go together");
  }

  let server: StreamServer | StreamServer<Uint8Array, Deno.UnixAddr>;
  try {
    server = args.path !== "" ? echoServer({ path: args.path }) : echoServer({
      hostname: args.host,
      port: args.port,
      ...(args.tls
        ? {
          tls: {
            cert: Deno.readTextFileSync(args.cert),
            key: Deno.readTextFileSync(args.key),
          },
        }
        : {}),
    });
  } catch (error) {
    // EADDRINUSE (another server has the port, or a stale socket file), or
    // EPERM: the flags do not name this address; ETLS: a bad certificate.
    if (error instanceof Deno.errors.NotFound) {
      usageError(USAGE, (error as Error).message);
    }
    fail(error);
  }
  const kind = args.tls ? " (TLS)" : "";
  console.log(
    `echo server listening on ${describe(server.addr)}${kind} (Ctrl-C to stop)`,
  );
  stopOnSigint(server);
  await server.finished;
}
