// The three stream transports, opened the way the runtime allows: TCP, TLS
// over TCP, and Unix domain sockets. tcp.ts calls these and wraps what they
// return in one TcpSocket; nothing here knows about reads, writes or framing.
// Private: never re-exported.
//
// What Deno 2.9.6 offers, and what is built on it here (measured, see
// tests/transport_test.ts):
// - Deno.connectTls takes no server name apart from the address, and no
//   AbortSignal. So a TLS connect is a TCP connect (which takes the signal)
//   followed by Deno.startTls(conn, { hostname: serverName }), whose hostname
//   is only the name the certificate is checked against. The handshake is
//   then run to completion here, so a certificate the client does not trust
//   fails the connect and no application byte is ever written in the clear.
// - Neither gives the handshake a deadline: a timeout or an abort closes the
//   connection, which makes the pending handshake fail ("operation canceled").
// - A TlsConn has no setNoDelay (deno#13617). Client side, TCP_NODELAY is
//   set on the TCP connection before it is upgraded, and it stays. Server
//   side, the connections Deno.listenTls accepts keep Nagle's algorithm on
//   and nothing can turn it off: a second small write before the peer's ACK
//   may wait up to 40 ms (delayed ACK). Measured: 0.17 ms per write-write-read
//   round from the client, 44 ms from a listenTls-accepted connection.
// - Deno.startTls's connection reports addresses without `transport`
//   ({ hostname, port }); they are completed to `transport: "tcp"` here.
// - A TLS peer that closes without close_notify (Python's plain close(), as
//   tutorials write it) makes read() throw UnexpectedEof; it is turned into
//   the end of stream (null) here, as Python's ssl does by default
//   (suppress_ragged_eofs). A frame cut short still fails as incomplete.
// - Server-side STARTTLS and client certificates on the server are not
//   offered by the runtime (deno#18451, deno#26825); Deno.startTls accepts a
//   TCP connection only, so there is no TLS over Unix sockets either.
// - Unix sockets need --allow-read and --allow-write for the path and
//   --allow-net=unix:<absolute path> (exact paths only in 2.9.6, deno#36762;
//   connect needs --allow-write too, though the runtime's docs say read).
//   A listener deletes its socket file when closed; a file left by a process
//   that died is EADDRINUSE and stays. The client end of a connection is
//   unnamed: its path is null.

import { SocketError } from "./errors.ts";
import { toSocketError, underDeadline } from "./_runtime_errors.ts";
import { show } from "./_validate.ts";
import type { Transport } from "./_tcp_socket.ts";
import type { TlsConnectOptions, TlsListenOptions } from "./tcp.ts";

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

/** Where to listen: a host and port (maybe with TLS), or a Unix socket path. */
export interface ListenTarget {
  hostname?: string;
  port?: number;
  path?: string;
  tls?: TlsListenOptions;
  reusePort?: boolean;
  backlog?: number;
}

/** An open connection and what it runs over. */
export interface Opened {
  conn: Deno.Conn;
  transport: Transport;
  /** The application protocol the TLS handshake settled on, if any. */
  alpnProtocol: string | null;
}

/** The longest Unix socket path Linux takes (sun_path is 108 bytes). */
const UNIX_PATH_MAX = 107;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) &&
    value.every((item) => typeof item === "string");
}

/** The transport options describe. */
export function transportOf(
  target: { path?: unknown; tls?: unknown },
): Transport {
  if (target.path !== undefined) return "unix";
  return target.tls !== undefined && target.tls !== false ? "tls" : "tcp";
}

/**
 * Checks the transport options before any I/O: a TypeError or RangeError
 * that names the option. `side` is "connect" or "listen".
 */
export function checkTransport(
  target: {
    path?: unknown;
    port?: unknown;
    tls?: unknown;
    reusePort?: unknown;
  },
  side: "connect" | "listen",
  action: string,
): void {
  const { path, tls } = target;
  if (path !== undefined) {
    if (typeof path !== "string" || path === "") {
      throw new TypeError(
        `Cannot ${action}: path must be a non-empty string, got ${show(path)}`,
      );
    }
    const bytes = new TextEncoder().encode(path).length;
    if (bytes > UNIX_PATH_MAX) {
      throw new RangeError(
        `Cannot ${action}: a Unix socket path is at most ${UNIX_PATH_MAX} bytes, got ${bytes} bytes`,
      );
    }
    if (target.port !== undefined) {
      throw new TypeError(
        `Cannot ${action}: give either path (a Unix socket) or port, not both`,
      );
    }
    if (tls !== undefined) {
      throw new TypeError(
        `Cannot ${action}: TLS over a Unix socket is not supported (Deno.startTls takes TCP connections only)`,
      );
    }
    if (target.reusePort !== undefined) {
      throw new TypeError(
        `Cannot ${action}: reusePort applies to TCP ports, not to a Unix socket path`,
      );
    }
    return;
  }
  if (tls === undefined) return;
  if (side === "connect") {
    if (tls === true) return;
    if (typeof tls !== "object" || tls === null) {
      throw new TypeError(
        `Cannot ${action}: tls must be true or an object, got ${show(tls)}`,
      );
    }
    const { caCerts, serverName, alpnProtocols } = tls as TlsConnectOptions;
    if (caCerts !== undefined && !isStringArray(caCerts)) {
      throw new TypeError(
        `Cannot ${action}: tls.caCerts must be an array of PEM strings, got ${
          show(caCerts)
        }`,
      );
    }
    if (
      serverName !== undefined &&
      (typeof serverName !== "string" || serverName === "")
    ) {
      throw new TypeError(
        `Cannot ${action}: tls.serverName must be a non-empty string, got ${
          show(serverName)
        }`,
      );
    }
    checkAlpn(alpnProtocols, action);
    return;
  }
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(
      `Cannot ${action}: tls must be an object with cert and key (PEM strings), got ${
        show(tls)
      }`,
    );
  }
  const { cert, key, alpnProtocols } = tls as TlsListenOptions;
  for (const [name, value] of [["cert", cert], ["key", key]] as const) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(
        `Cannot ${action}: tls.${name} must be a PEM string (the file's contents, not its path), got ${
          show(value)
        }`,
      );
    }
  }
  checkAlpn(alpnProtocols, action);
}

/** Throws unless `alpnProtocols` is undefined or an array of strings. */
function checkAlpn(alpnProtocols: unknown, action: string): void {
  if (alpnProtocols !== undefined && !isStringArray(alpnProtocols)) {
    throw new TypeError(
      `Cannot ${action}: tls.alpnProtocols must be an array of strings, got ${
        show(alpnProtocols)
      }`,
    );
  }
}

/** How an address reads in messages: `host:port`, `[::1]:port`, or the path. */
export function describe(
  target: { hostname?: string; port?: number; path?: string; tls?: unknown },
): string {
  if (target.path !== undefined) return `unix:${target.path}`;
  const host = target.hostname ?? "127.0.0.1";
  const where = `${host.includes(":") ? `[${host}]` : host}:${target.port}`;
  return target.tls !== undefined && target.tls !== false
    ? `${where} over TLS`
    : where;
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}

/** Whether `conn` is a TLS connection (it has a handshake to run). */
export function isTls(conn: Deno.Conn): conn is Deno.TlsConn {
  return typeof (conn as Partial<Deno.TlsConn>).handshake === "function";
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
  where: string = `connect to ${describe(target)}`,
): Promise<Opened> {
  try {
    return await underDeadline(target, where, (signal) => dial(target, signal));
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
    return { conn, transport: "unix", alpnProtocol: null };
  }
  const hostname = target.hostname ?? "127.0.0.1";
  const tcp = await Deno.connect({ hostname, port: target.port ?? 0, signal });
  tcp.setNoDelay(true);
  if (target.tls === undefined) {
    return { conn: tcp, transport: "tcp", alpnProtocol: null };
  }
  const tls = target.tls === true ? {} : target.tls;
  return await secure(tcp, {
    hostname: tls.serverName ?? unbracket(hostname),
    caCerts: tls.caCerts,
    alpnProtocols: tls.alpnProtocols,
  }, signal);
}

/** "[::1]" as Deno.startTls wants it: "::1". */
function unbracket(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
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

/** Options of {@linkcode upgrade}: what `socket.startTls()` takes. */
export interface UpgradeOptions {
  /** Root certificates (PEM) trusted besides the runtime's default ones. */
  caCerts?: string[];
  /** The name the server's certificate must carry. */
  hostname: string;
  /** Application protocols to offer (ALPN). */
  alpnProtocols?: string[];
  /** Milliseconds the handshake may take (ETIMEDOUT). */
  timeout?: number;
  /** Aborting it cancels the handshake (ECANCELED, the reason as cause). */
  signal?: AbortSignal;
}

/**
 * STARTTLS, client side: upgrades a TCP connection in place and completes
 * the handshake. `tcp` is consumed; on failure everything is closed and the
 * error is a SocketError (ECERT, ETLS, ETIMEDOUT, ECANCELED...).
 */
export async function upgrade(
  tcp: Deno.TcpConn,
  options: UpgradeOptions,
  where = `start TLS with ${options.hostname}`,
): Promise<Opened> {
  try {
    return await underDeadline(options, where, (signal) =>
      secure(tcp, {
        hostname: unbracket(options.hostname),
        caCerts: options.caCerts,
        alpnProtocols: options.alpnProtocols,
      }, signal));
  } catch (error) {
    // An abort before the upgrade began leaves `tcp` to close here.
    closeQuietly(tcp);
    throw tlsError(error, where, "client") ?? toSocketError(error, where);
  }
}

/**
 * Upgrades a TCP connection to TLS and completes the client handshake.
 * `tcp` is consumed: on failure, everything is closed. Aborting `signal`
 * closes the connection, which fails a pending handshake.
 */
export async function secure(
  tcp: Deno.TcpConn,
  options: Deno.StartTlsOptions,
  signal?: AbortSignal,
): Promise<Opened> {
  let tls: Deno.TlsConn;
  try {
    tls = await Deno.startTls(tcp, options);
  } catch (error) {
    closeQuietly(tcp);
    throw error;
  }
  const onAbort = () => closeQuietly(tls);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    const { alpnProtocol } = await tls.handshake();
    completeAddrs(tls);
    endOnMissingCloseNotify(tls);
    return { conn: tls, transport: "tls", alpnProtocol };
  } catch (error) {
    closeQuietly(tls);
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Deno.startTls's connection reports `{ hostname, port }` without
 * `transport`; the socket's addresses are `Deno.NetAddr`s all the same.
 */
function completeAddrs(conn: Deno.Conn): void {
  for (const name of ["localAddr", "remoteAddr"] as const) {
    const addr = conn[name] as Partial<Deno.NetAddr>;
    if (addr.transport === undefined) {
      Object.defineProperty(conn, name, {
        value: { transport: "tcp", hostname: addr.hostname, port: addr.port },
      });
    }
  }
}

/**
 * A TLS peer that closes without close_notify ends the stream: read()
 * resolves to null instead of throwing UnexpectedEof, as Python's ssl does
 * by default. (A frame cut short by it still fails as incomplete.)
 */
function endOnMissingCloseNotify(conn: Deno.TlsConn): void {
  const read = conn.read.bind(conn);
  const UnexpectedEof = Deno.errors.UnexpectedEof;
  conn.read = (buffer: Uint8Array) =>
    read(buffer).catch((error: unknown) => {
      if (error instanceof UnexpectedEof) return null;
      throw error;
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
        `Cannot ${where}: no socket file at ${path} (is the server running?)`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.ConnectionRefused) {
      return new SocketError(
        "ECONNREFUSED",
        `Cannot ${where}: nothing listens on the socket file at ${path} (left by a server that has exited?)`,
        { cause: error },
      );
    }
  }
  return (tls ? tlsError(error, where, "client") : undefined) ??
    toSocketError(error, where);
}

/**
 * The SocketError for a failed TLS handshake, or undefined when `error` is
 * not one (a reset, a closed connection: the usual codes apply).
 */
export function tlsError(
  error: unknown,
  where: string,
  side: "client" | "server",
): SocketError | undefined {
  if (!(error instanceof Error) || error instanceof SocketError) {
    return undefined;
  }
  const errors = Deno.errors;
  // TLS failures come as InvalidData (rustls' errors and alerts) or
  // UnexpectedEof (the peer closed mid-handshake); anything else (a reset,
  // a refused connect, a closed resource) keeps its usual code.
  if (
    !(error instanceof errors.InvalidData ||
      error instanceof errors.UnexpectedEof ||
      (error.constructor === Error &&
        (error as { code?: unknown }).code === undefined &&
        /certificate|tls|alert|handshake|corrupt message|peer/i.test(
          error.message,
        )))
  ) {
    return undefined;
  }
  const reason = error.message;
  if (/invalid peer certificate/i.test(reason)) {
    const hint = /UnknownIssuer/.test(reason)
      ? " (it is not signed by a trusted certificate authority: pass the CA's PEM in tls.caCerts)"
      : /not valid for name|NotValidForName/i.test(reason)
      ? " (it does not name this host: connect by a name it carries, or set tls.serverName)"
      : "";
    const whose = side === "client" ? "the server's" : "the client's";
    return new SocketError(
      "ECERT",
      `Cannot ${where}: ${whose} certificate was rejected${hint}: ${reason}`,
      { cause: error },
    );
  }
  if (error instanceof errors.UnexpectedEof) {
    const peer = side === "client" ? "server" : "client";
    return new SocketError(
      "ETLS",
      `Cannot ${where}: the ${peer} closed the connection during the TLS handshake`,
      { cause: error },
    );
  }
  if (
    /fatal alert/i.test(reason) &&
    /UnknownCA|BadCertificate|CertificateUnknown/i.test(reason)
  ) {
    const peer = side === "client" ? "server" : "client";
    return new SocketError(
      "ETLS",
      `Cannot ${where}: the ${peer} rejected this side's certificate: ${reason}`,
      { cause: error },
    );
  }
  return new SocketError(
    "ETLS",
    `Cannot ${where}: the TLS handshake failed: ${reason}`,
    { cause: error },
  );
}

/**
 * Opens a listener: TCP, TLS (accepted connections need {@linkcode handshake})
 * or Unix.
 *
 * @param target Where to listen, and how.
 * @param where How the address reads in error messages.
 */
export function openListener(
  target: ListenTarget,
  where: string = `listen on ${describe(target)}`,
): Deno.Listener {
  const { path, tls, reusePort, backlog } = target;
  try {
    if (path !== undefined) {
      return Deno.listen({ transport: "unix", path });
    }
    const options = {
      hostname: target.hostname ?? "127.0.0.1",
      port: target.port ?? 0,
      transport: "tcp" as const,
      ...(reusePort === undefined ? {} : { reusePort }),
      ...(backlog === undefined ? {} : { tcpBacklog: backlog }),
    };
    if (tls === undefined) return Deno.listen(options);
    return Deno.listenTls({
      ...options,
      cert: tls.cert,
      key: tls.key,
      ...(tls.alpnProtocols === undefined
        ? {}
        : { alpnProtocols: tls.alpnProtocols }),
    });
  } catch (error) {
    throw listenError(error, where, path);
  }
}

function listenError(
  error: unknown,
  where: string,
  path: string | undefined,
): SocketError {
  if (path !== undefined) {
    if (error instanceof Deno.errors.AddrInUse) {
      return new SocketError(
        "EADDRINUSE",
        `Cannot ${where}: the path is taken: a server listens there, or a ` +
          `socket file was left by one that exited without closing it ` +
          `(it is not deleted for you: remove ${path} if no server uses it)`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.NotFound) {
      return new SocketError(
        "ENOENT",
        `Cannot ${where}: the directory of ${path} does not exist`,
        { cause: error },
      );
    }
  }
  if (
    error instanceof Error && !(error instanceof SocketError) &&
    (error instanceof Deno.errors.InvalidData ||
      /certificate|private key|keys may not be consistent|pem/i.test(
        error.message,
      ))
  ) {
    return new SocketError(
      "ETLS",
      `Cannot ${where}: the TLS certificate or key is not usable: ${error.message}`,
      { cause: error },
    );
  }
  return toSocketError(error, where);
}

/** Options of {@linkcode handshake}. */
export interface HandshakeOptions {
  /** Milliseconds the handshake may take (ETIMEDOUT; the connection is closed). */
  timeout?: number;
  /** Aborting it closes the connection (ECANCELED). */
  signal?: AbortSignal;
}

/**
 * Completes the server side of a TLS handshake on an accepted connection;
 * other connections resolve at once. On failure the connection is closed and
 * the error is a SocketError (ETLS, ECERT, ETIMEDOUT, ECANCELED,
 * ECONNRESET...).
 *
 * @returns The application protocol agreed on (ALPN), or null.
 */
export async function handshake(
  conn: Deno.Conn,
  options: HandshakeOptions = {},
  where = "accept a TLS connection",
): Promise<string | null> {
  if (!isTls(conn)) return null;
  try {
    return await underDeadline(options, where, async (signal) => {
      // The runtime's handshake takes no signal: closing the connection ends it.
      signal.addEventListener("abort", () => closeQuietly(conn), {
        once: true,
      });
      const { alpnProtocol } = await conn.handshake();
      endOnMissingCloseNotify(conn);
      return alpnProtocol;
    });
  } catch (error) {
    closeQuietly(conn);
    throw tlsError(error, where, "server") ?? toSocketError(error, where);
  }
}
