// What connect, tryConnect, listen and serve take to open a stream socket,
// over each transport, and what every socket takes.

import type { Framing } from "../framing/types.ts";

/** Options for a {@linkcode StreamSocket}; `connect`, `listen` and `serve` take them too. */
export interface SocketOptions<T = Uint8Array> {
  /**
   * The framing `sendFrame`, `recvFrame` and `frames` use when none is given;
   * it types the socket's frames.
   * @default {lengthPrefixed()}
   */
  framing?: Framing<T>;
  /**
   * Bytes the write buffer holds before `send*` calls wait for it to drain.
   * @default {1048576}
   */
  highWaterMark?: number;
  /**
   * Milliseconds a frame may take from its first byte to its last while a
   * frame receive (`recvFrame`, `frames()`, `recvUntil`...) waits for it:
   * past it the receive fails with `ETIMEDOUT` and the socket is closed (a
   * served one quietly). Bounds a peer that trickles a frame byte by byte
   * inside the idle timeout; one sending large frames steadily is not cut
   * off as long as each frame arrives in time. `undefined`: no limit. Also
   * a property of the socket.
   */
  frameTimeout?: number;
}

/**
 * Which transport a socket runs over: `"tcp"`, `"tls"` (TLS over TCP) or
 * `"unix"` (a Unix domain socket).
 */
export type Transport = "tcp" | "tls" | "unix";

/**
 * TLS options of a client: `connect({ tls })`. `tls: true` is the same as
 * `tls: {}`: the runtime's default roots, the hostname as the name.
 */
export interface TlsConnectOptions {
  /**
   * Root certificates (PEM) trusted besides the runtime's default ones
   * (Mozilla's roots, unless `DENO_TLS_CA_STORE` says otherwise).
   */
  caCerts?: string[];
  /**
   * The name the server's certificate must carry, when it is not the
   * hostname connected to (e.g. connecting to an IP address).
   * @default {the hostname}
   */
  serverName?: string;
  /** Application protocols to offer (ALPN), e.g. `["h2"]`. */
  alpnProtocols?: string[];
}

/** TLS options of a server: `listen({ tls })`, `serve({ tls })`. PEM strings: read the files yourself. */
export interface TlsListenOptions {
  /** The certificate chain (PEM), the server's own certificate first. */
  cert: string;
  /** The private key (PEM: PKCS#8, RSA or EC). */
  key: string;
  /** Application protocols to accept (ALPN), in order of preference. */
  alpnProtocols?: string[];
}

/** Options for {@linkcode connect} and {@linkcode tryConnect}. */
export interface ConnectOptions<T = Uint8Array> extends SocketOptions<T> {
  /**
   * The host to connect to.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port to connect to. */
  port: number;
  /**
   * Connect over TLS: `true` (the runtime's default roots) or options. The
   * handshake completes inside `connect`, so a certificate the client does
   * not trust fails it (`ECERT`) and nothing is sent in the clear.
   */
  tls?: true | TlsConnectOptions;
  /** Milliseconds the connect itself (TLS handshake included) may take before `ETIMEDOUT`. */
  timeout?: number;
  /** Aborting it cancels the connect: `ECANCELED`, the reason as `cause`. */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode connect} and {@linkcode tryConnect} to a Unix
 * domain socket. Requires `--allow-read`, `--allow-write` and
 * `--allow-net=unix:<absolute path>`.
 */
export interface UnixConnectOptions<T = Uint8Array> extends SocketOptions<T> {
  /** The socket file's path (at most 107 bytes). */
  path: string;
  /** Milliseconds the connect may take before `ETIMEDOUT`. */
  timeout?: number;
  /** Aborting it cancels the connect: `ECANCELED`, the reason as `cause`. */
  signal?: AbortSignal;
}

/** Options for {@linkcode listen}. */
export interface ListenOptions<T = Uint8Array> extends SocketOptions<T> {
  /**
   * The address to listen on. Not all interfaces: pass `"0.0.0.0"` (or
   * `"::"`) deliberately to accept connections from other machines.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 lets the OS pick a free one (read it from `addr.port`).
   * @default {0}
   */
  port?: number;
  /** Let several processes listen on the same port (`SO_REUSEPORT`; Linux). Needs `--unstable-net`. */
  reusePort?: boolean;
  /** Connections the OS queues before `accept` (Deno's `tcpBacklog`). */
  backlog?: number;
  /**
   * Serve TLS: the certificate chain and key (PEM strings). The handshake
   * runs when a connection is accepted; clients that fail it are dropped
   * quietly and never handed out.
   */
  tls?: TlsListenOptions;
  /**
   * With `tls`: milliseconds a client may take to complete its handshake.
   * @default {10000}
   */
  handshakeTimeout?: number;
}

/**
 * Options for {@linkcode listen} on a Unix domain socket. The socket file is
 * created, and deleted when the server closes; a file left by a process
 * that died is `EADDRINUSE` (remove it yourself). Requires `--allow-read`,
 * `--allow-write` and `--allow-net=unix:<absolute path>`.
 */
export interface UnixListenOptions<T = Uint8Array> extends SocketOptions<T> {
  /** The socket file's path (at most 107 bytes). */
  path: string;
}

/**
 * Options of {@linkcode StreamSocket.startTls}: the client's TLS options, as
 * `connect({ tls })` takes them, and a deadline for the handshake.
 */
export interface StartTlsOptions extends TlsConnectOptions {
  /**
   * The name the server's certificate must carry (Python's
   * `server_hostname`).
   * @default {the peer's IP address}
   */
  serverName?: string;
  /**
   * The name the server's certificate must carry.
   * @deprecated Use `serverName`, the name `connect({ tls })` takes too.
   */
  hostname?: string;
  /** Milliseconds the handshake may take before `ETIMEDOUT`. */
  timeout?: number;
  /** Aborting it cancels the handshake: `ECANCELED`, the reason as `cause`. */
  signal?: AbortSignal;
}
