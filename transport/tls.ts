// TLS over TCP, opened the way the runtime allows, and the errors of its
// handshakes. What Deno 2.9.6 offers, and what is built on it here (measured,
// see tests/transport/tls_test.ts):
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
//   may wait up to 40 ms (delayed ACK); BENCHMARKS.md has the figures.
// - Deno.startTls's connection reports addresses without `transport`
//   ({ hostname, port }); they are completed to `transport: "tcp"` here.
// - A TLS peer that closes without close_notify (Python's plain close(), as
//   tutorials write it) makes read() throw UnexpectedEof; it is turned into
//   the end of stream (null) here, as Python's ssl does by default
//   (suppress_ragged_eofs). A frame cut short still fails as incomplete.
// - Server-side STARTTLS and client certificates on the server are not
//   offered by the runtime (deno#18451, deno#26825); Deno.startTls accepts a
//   TCP connection only, so there is no TLS over Unix sockets either.

import { SocketError } from "../errors.ts";
import { closeQuietly, toSocketError } from "../io/runtime_errors.ts";
import { withDeadline } from "../io/wait_queue.ts";
import { unbracket } from "./address.ts";
import type {
  StartTlsOptions,
  TlsConnectOptions,
  Transport,
} from "./options.ts";

/** An open connection, and the application protocol its TLS handshake settled on. */
export interface Opened {
  conn: Deno.Conn;
  /** The ALPN protocol agreed on; null without TLS or without agreement. */
  alpnProtocol: string | null;
}

/** Whether `conn` is a TLS connection (it has a handshake to run). */
export function isTls(conn: Deno.Conn): conn is Deno.TlsConn {
  return typeof (conn as Partial<Deno.TlsConn>).handshake === "function";
}

/** What `conn` runs over. */
export function transportOf(conn: Deno.Conn): Transport {
  if (isTls(conn)) return "tls";
  return conn.localAddr.transport === "tcp" ? "tcp" : "unix";
}

/**
 * STARTTLS, client side: upgrades a TCP connection in place and completes
 * the handshake. `tcp` is consumed; on failure everything is closed and the
 * error is a SocketError (ECERT, ETLS, ETIMEDOUT, ECANCELED...).
 */
export async function upgrade(
  tcp: Deno.TcpConn,
  options: StartTlsOptions & { serverName: string },
  where = `start TLS with ${options.serverName}`,
): Promise<Opened> {
  try {
    return await withDeadline(
      (signal) => secure(tcp, options, signal),
      options,
      where,
    );
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
  options: TlsConnectOptions & { serverName: string },
  signal?: AbortSignal,
): Promise<Opened> {
  let tls: Deno.TlsConn;
  try {
    tls = await Deno.startTls(tcp, {
      hostname: unbracket(options.serverName),
      caCerts: options.caCerts,
      alpnProtocols: options.alpnProtocols,
    });
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
    adaptReads(tls, "server");
    return { conn: tls, alpnProtocol };
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
 * by default. (A frame cut short by it still fails as incomplete.) A record
 * the peer corrupted (a bad MAC, a malformed record: the runtime's
 * InvalidData) is `ETLS`, not `EUNKNOWN`.
 */
function adaptReads(conn: Deno.TlsConn, peer: "client" | "server"): void {
  const read = conn.read.bind(conn);
  const { UnexpectedEof, InvalidData } = Deno.errors;
  conn.read = (buffer: Uint8Array) =>
    read(buffer).catch((error: unknown) => {
      if (error instanceof UnexpectedEof) return null;
      if (error instanceof InvalidData) {
        throw new SocketError(
          "ETLS",
          `Cannot receive: the ${peer}'s TLS data is corrupt: ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    });
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
    return await withDeadline(
      async (signal) => {
        // The runtime's handshake takes no signal: closing the connection ends it.
        signal.addEventListener("abort", () => closeQuietly(conn), {
          once: true,
        });
        const { alpnProtocol } = await conn.handshake();
        adaptReads(conn, "client");
        return alpnProtocol;
      },
      options,
      where,
    );
  } catch (error) {
    closeQuietly(conn);
    throw tlsError(error, where, "server") ?? toSocketError(error, where);
  }
}
