// Opening a stream connection: TCP, TLS over TCP (see tls.ts) or a Unix
// domain socket. Nothing here knows about reads, writes or framing.
//
// Unix sockets need --allow-read and --allow-write for the path and
//   --allow-net=unix:<absolute path> (exact paths only in 2.9.6, deno#36762;
//   connect needs --allow-write too, though the runtime's docs say read).
//   A listener deletes its socket file when closed; a file left by a process
//   that died is EADDRINUSE and stays. The client end of a connection is
//   unnamed: its path is null.

import { SocketError } from "../errors.ts";
import { closeQuietly, toSocketError } from "../io/runtime_errors.ts";
import { withDeadline } from "../io/wait_queue.ts";
import { DEFAULT_HOSTNAME } from "../io/validate.ts";
import { formatAddress } from "./address.ts";
import type { TlsConnectOptions } from "./options.ts";
import { type Opened, secure, tlsError } from "./tls.ts";

/** Where to connect: a host and port (maybe over TLS), or a Unix socket path. */
export interface ConnectTarget {
  hostname?: string;
  port?: number;
  path?: string;
  tls?: true | TlsConnectOptions;
  /** Milliseconds for the whole connect, TLS handshake included. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Opens a connection: TCP, TLS with the handshake completed, or Unix.
 * `timeout` covers the whole of it (ETIMEDOUT); aborting `signal` cancels it
 * (ECANCELED, the reason as cause). Nothing is left open when it fails.
 *
 * @param target Where to connect, and how.
 * @param where How the address reads in error messages.
 */
export async function openConnection(
  target: ConnectTarget,
  where: string = `connect to ${formatAddress(target)}`,
): Promise<Opened> {
  try {
    return await withDeadline((signal) => dial(target, signal), target, where);
  } catch (error) {
    throw connectError(error, where, target.path, target.tls !== undefined);
  }
}

/** Connects as `target` says; aborting `signal` closes what is open. */
async function dial(
  target: ConnectTarget,
  signal: AbortSignal,
): Promise<Opened> {
  if (target.path !== undefined) {
    const conn = await dialUnix(target.path, signal);
    return { conn, alpnProtocol: null };
  }
  const hostname = target.hostname ?? DEFAULT_HOSTNAME;
  const tcp = await Deno.connect({ hostname, port: target.port ?? 0, signal });
  tcp.setNoDelay(true);
  if (target.tls === undefined) {
    return { conn: tcp, alpnProtocol: null };
  }
  const tls = target.tls === true ? {} : target.tls;
  return await secure(
    tcp,
    { ...tls, serverName: tls.serverName ?? hostname },
    signal,
  );
}

/**
 * Connects to a Unix socket. The runtime's connect takes no signal; it is
 * raced with the abort, and a connection that arrives too late is closed.
 */
function dialUnix(path: string, signal: AbortSignal): Promise<Deno.UnixConn> {
  const dialing = Deno.connect({ transport: "unix", path });
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      dialing.then(closeQuietly, () => {});
    };
    signal.addEventListener("abort", onAbort, { once: true });
    dialing.then((conn) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) closeQuietly(conn);
      else resolve(conn);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

/** The SocketError for a failed connect, TLS handshake included. */
function connectError(
  error: unknown,
  where: string,
  path: string | undefined,
  tls: boolean,
): SocketError {
  if (error instanceof SocketError) return error;
  if (path !== undefined) {
    if (error instanceof Deno.errors.NotFound) {
      return new SocketError(
        "ENOENT",
        `Cannot ${where}: no socket file there (is the server running?)`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.ConnectionRefused) {
      return new SocketError(
        "ECONNREFUSED",
        `Cannot ${where}: the socket file is there, but nothing listens on it (left by a server that has exited?)`,
        { cause: error },
      );
    }
  }
  return (tls ? tlsError(error, where, "client") : undefined) ??
    toSocketError(error, where);
}
