/**
 * TCP, TLS and Unix domain sockets: `listen`, `serve`, `connect`,
 * `tryConnect` and {@linkcode TcpSocket}, the same for the three transports
 * (`tls: ...` or `path: ...` in the options).
 *
 * | Python `socket` | here |
 * | --- | --- |
 * | `bind` + `listen` + `accept` | `listen()`, `server.accept()` or `for await` |
 * | the "connection loop" | `serve(options, handler)` |
 * | `connect` / `connect_ex` | `connect()` / `tryConnect()` |
 * | `sendall` / `recv` | `send` / `recv` |
 * | `settimeout` | `socket.timeout` |
 * | `shutdown(SHUT_WR)` | `closeWrite()` |
 * | `struct.pack("!I", n)` headers | `sendFrame` / `recvFrame` with `lengthPrefixed()` |
 *
 * | `ssl.create_default_context(cafile=...).wrap_socket(...)` | `connect({ ..., tls: { caCerts } })` |
 * | `context.load_cert_chain(cert, key)` on the server | `listen({ ..., tls: { cert, key } })` |
 * | `socket.AF_UNIX` | `connect({ path })`, `listen({ path })` |
 *
 * All of it needs `--allow-net` for the addresses used; Unix sockets need
 * `--allow-read`, `--allow-write` and `--allow-net=unix:<absolute path>`.
 *
 * @module
 */

import { SocketError } from "./errors.ts";
import type { Framing } from "./framing/types.ts";
import {
  closedByServer,
  destroyByServer,
  type SocketOptions,
  TcpSocket,
} from "./_tcp_socket.ts";
import {
  checkTransport,
  describe,
  handshake,
  openConnection,
  openListener,
} from "./_transport.ts";
import { closedError, toSocketError } from "./_runtime_errors.ts";
import {
  checkCount,
  checkDuration,
  checkHostname,
  checkPort,
  checkPositive,
  withDefault,
} from "./_validate.ts";

export {
  type CallOptions,
  type SocketOptions,
  type StartTlsOptions,
  TcpSocket,
  type Transport,
} from "./_tcp_socket.ts";

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

/** What {@linkcode serve} takes besides where to listen. */
export interface ServeLoopOptions {
  /** Aborting it is `shutdown()`. */
  signal?: AbortSignal;
  /** Called with each error a handler throws; default: logged to stderr. */
  onError?: (error: unknown) => void;
  /** Milliseconds with no byte received or written after which a connection is closed. */
  idleTimeout?: number;
  /** Connections served at once; further ones are closed on arrival. */
  maxConnections?: number;
  /**
   * Milliseconds `shutdown()` waits for handlers before closing their sockets.
   * @default {5000}
   */
  shutdownTimeout?: number;
}

/** Options for {@linkcode serve}. */
export interface ServeOptions<T = Uint8Array>
  extends ListenOptions<T>, ServeLoopOptions {}

/** Options for {@linkcode serve} on a Unix domain socket. */
export interface UnixServeOptions<T = Uint8Array>
  extends UnixListenOptions<T>, ServeLoopOptions {}

/**
 * A running {@linkcode serve} loop.
 *
 * @typeParam A The address type: `Deno.NetAddr`, or `Deno.UnixAddr` for a
 * Unix socket.
 */
export interface Server<A extends Deno.Addr = Deno.NetAddr> {
  /** The address it listens on (with the port the OS picked). */
  readonly addr: A;
  /** Resolves once the server has stopped and every handler has returned. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting at once, then resolves when every handler has returned;
   * sockets still open after `shutdownTimeout` ms are closed.
   */
  shutdown(): Promise<void>;
}

/**
 * Opens a connection to a Unix domain socket: `connect({ path })`.
 *
 * Requires `allow-read`, `allow-write` and `allow-net` (`unix:<path>`)
 * permissions.
 *
 * @param options The socket file's path, the timeout and the socket's options.
 * @returns The connected socket; its addresses are `{ transport: "unix", path }`.
 * @throws {SocketError} `ENOENT` (no socket file there), `ECONNREFUSED` (a
 * file nobody listens on), `EPERM`, `ETIMEDOUT`, `ECANCELED`.
 * @tags allow-read, allow-write, allow-net
 */
export function connect(
  options: UnixConnectOptions,
): Promise<TcpSocket<Uint8Array, Deno.UnixAddr>>;
/**
 * Opens a connection to a Unix domain socket whose frames are the values of
 * `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function connect<T>(
  options: UnixConnectOptions<T> & { framing: Framing<T> },
): Promise<TcpSocket<T, Deno.UnixAddr>>;
/**
 * Opens a TCP connection, or a TLS one with `tls`.
 *
 * Requires `allow-net` permission.
 *
 * @param options Where to connect, TLS, the timeout and the socket's options.
 * @returns The connected socket.
 * @throws {SocketError} `ECONNREFUSED` (nothing listens there), `ETIMEDOUT`,
 * `ECANCELED`, `EPERM` (no `--allow-net`), `ENOTFOUND`; with TLS, `ECERT`
 * (the server's certificate is rejected) or `ETLS` (the handshake failed).
 * @throws {RangeError} An invalid port or `highWaterMark`.
 *
 * @example Connecting, sending, closing
 * ```ts
 * import { connect, listen } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = listen();
 * await using client = await connect({ port: server.addr.port, timeout: 1000 });
 * await using peer = await server.accept();
 * await client.send("hi");
 * assertEquals(new TextDecoder().decode(await peer.recvExactly(2)), "hi");
 * ```
 * @tags allow-net
 */
export function connect(options: ConnectOptions): Promise<TcpSocket>;
/**
 * Opens a TCP connection whose frames are the values of `options.framing`:
 * `connect({ port, framing: message() })` resolves to a `TcpSocket<Message>`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function connect<T>(
  options: ConnectOptions<T> & { framing: Framing<T> },
): Promise<TcpSocket<T>>;
/**
 * Opens a connection over whichever transport `options` name, when that is
 * only known at run time (a union of option types); the socket's addresses
 * are then `Deno.Addr`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function connect<T = Uint8Array>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<TcpSocket<T, Deno.Addr>>;
export function connect<T>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<TcpSocket<T, Deno.Addr>> {
  try {
    return open(options, checkConnect(options));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Connects with options `checkConnect` accepted. */
async function open<T>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
  where: string,
): Promise<TcpSocket<T, Deno.Addr>> {
  const { conn } = await openConnection(options, where);
  return new TcpSocket(conn, options);
}

/** Checks every option of `connect` before any I/O; returns the action's name. */
function checkConnect(
  options: ConnectOptions<unknown> | UnixConnectOptions<unknown>,
): string {
  checkTransport(options, "connect", "connect");
  checkDuration(options.timeout, "timeout", "connect");
  checkSocketOptions(options, "connect");
  if ("path" in options && options.path !== undefined) {
    return `connect to ${describe(options)}`;
  }
  const { tls } = options as ConnectOptions<unknown>;
  const hostname = checkHostname(
    withDefault((options as ConnectOptions<unknown>).hostname, "127.0.0.1"),
    "connect",
  );
  const port = checkPort(
    (options as ConnectOptions<unknown>).port,
    1,
    "connect",
  );
  return `connect to ${describe({ hostname, port, tls })}`;
}

/** Checks the options every socket takes, before any I/O. */
function checkSocketOptions(
  options: SocketOptions<unknown>,
  action: string,
): void {
  if (options.highWaterMark !== undefined) {
    checkPositive(options.highWaterMark, "highWaterMark", action);
  }
}

/**
 * Like Python's `connect_ex`: a network failure is a value, not an exception.
 *
 * Requires `allow-net` permission.
 *
 * @param options As for {@linkcode connect}: a Unix socket `path` here.
 * @returns `{ ok: true, socket }` or `{ ok: false, error }`.
 * @throws {RangeError} An invalid port or `highWaterMark` (a programming error, not a network one).
 *
 * @example Probing a port nothing listens on
 * ```ts
 * import { listen, tryConnect } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const server = listen();
 * const port = server.addr.port;
 * server.close();
 * const result = await tryConnect({ port });
 * assertEquals(result.ok ? "connected" : result.error.code, "ECONNREFUSED");
 * ```
 * @tags allow-net
 */
export function tryConnect(
  options: UnixConnectOptions,
): Promise<
  | { ok: true; socket: TcpSocket<Uint8Array, Deno.UnixAddr> }
  | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` to a Unix domain socket, for a socket whose frames are the
 * values of `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function tryConnect<T>(
  options: UnixConnectOptions<T> & { framing: Framing<T> },
): Promise<
  | { ok: true; socket: TcpSocket<T, Deno.UnixAddr> }
  | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` over TCP or TLS.
 *
 * @tags allow-net
 */
export function tryConnect(
  options: ConnectOptions,
): Promise<
  { ok: true; socket: TcpSocket } | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` for a socket whose frames are the values of `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function tryConnect<T>(
  options: ConnectOptions<T> & { framing: Framing<T> },
): Promise<
  { ok: true; socket: TcpSocket<T> } | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` over whichever transport `options` name, when that is only
 * known at run time.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function tryConnect<T = Uint8Array>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<
  | { ok: true; socket: TcpSocket<T, Deno.Addr> }
  | { ok: false; error: SocketError }
>;
export async function tryConnect<T>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<
  | { ok: true; socket: TcpSocket<T, Deno.Addr> }
  | { ok: false; error: SocketError }
> {
  const where = checkConnect(options);
  try {
    return { ok: true, socket: await open(options, where) };
  } catch (error) {
    if (error instanceof SocketError) return { ok: false, error };
    throw error;
  }
}

/**
 * Listens on a Unix domain socket: `listen({ path })`. The socket file is
 * deleted when the server closes; one left by a process that died is
 * `EADDRINUSE`, and is not deleted for you.
 *
 * Requires `allow-read`, `allow-write` and `allow-net` (`unix:<path>`)
 * permissions.
 *
 * @param options The socket file's path and the accepted sockets' options.
 * @returns The listening server; its `addr` is `{ transport: "unix", path }`.
 * @throws {SocketError} `EADDRINUSE`, `ENOENT` (no such directory), `EPERM`.
 * @tags allow-read, allow-write, allow-net
 */
export function listen(
  options: UnixListenOptions,
): TcpServer<Uint8Array, Deno.UnixAddr>;
/**
 * Listens on a Unix domain socket; the sockets' frames are the values of
 * `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function listen<T>(
  options: UnixListenOptions<T> & { framing: Framing<T> },
): TcpServer<T, Deno.UnixAddr>;
/**
 * Listens for TCP connections, on 127.0.0.1 and a free port by default;
 * with `tls`, for TLS connections.
 *
 * Requires `allow-net` permission.
 *
 * @param options Address, port and the accepted sockets' options.
 * @returns The listening server.
 * @throws {SocketError} `EADDRINUSE`, `EPERM` (no `--allow-net`).
 * @throws {RangeError} An invalid port or `highWaterMark`.
 *
 * @example Accepting connections in a loop
 * ```ts
 * import { connect, listen } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = listen();
 * const client = await connect({ port: server.addr.port });
 * for await (const socket of server) {
 *   assertEquals(socket.remoteAddr.port, client.localAddr.port);
 *   socket.close();
 *   break; // leaves the server open; `await using` closes it
 * }
 * client.close();
 * ```
 * @tags allow-net
 */
export function listen(options?: ListenOptions): TcpServer;
/**
 * Listens for TCP connections whose sockets' frames are the values of
 * `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function listen<T>(
  options: ListenOptions<T> & { framing: Framing<T> },
): TcpServer<T>;
/**
 * Listens over whichever transport `options` name, when that is only known
 * at run time; the server's address is then `Deno.Addr`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function listen<T = Uint8Array>(
  options: ListenOptions<T> | UnixListenOptions<T>,
): TcpServer<T, Deno.Addr>;
export function listen<T>(
  options: ListenOptions<T> | UnixListenOptions<T> = {},
  // deno-lint-ignore no-explicit-any
): TcpServer<T, any> {
  return bind(options);
}

/** `listen`, for options of any frame type and transport. */
function bind<T>(
  options: ListenOptions<T> | UnixListenOptions<T>,
): TcpServer<T, Deno.Addr> {
  checkTransport(options, "listen", "listen");
  checkSocketOptions(options, "listen");
  if ("path" in options && options.path !== undefined) {
    const listener = openListener(options, `listen on ${describe(options)}`);
    return new TcpServer(listener, options);
  }
  const { backlog, tls, handshakeTimeout } = options as ListenOptions<T>;
  const hostname = checkHostname(
    withDefault((options as ListenOptions<T>).hostname, "127.0.0.1"),
    "listen",
  );
  const port = checkPort((options as ListenOptions<T>).port ?? 0, 0, "listen");
  if (backlog !== undefined) checkCount(backlog, 0, "backlog", "listen");
  checkDuration(handshakeTimeout, "handshakeTimeout", "listen");
  const listener = openListener(
    { ...options, hostname, port },
    `listen on ${describe({ hostname, port, tls })}`,
  );
  return new TcpServer(listener, options);
}

/** Milliseconds a TLS client may take to complete its handshake, by default. */
const HANDSHAKE_TIMEOUT = 10_000;

/** Accept errors of a connection that died in the queue, not of the listener. */
const GONE_BEFORE_ACCEPT: ReadonlySet<string> = new Set([
  "ENOTCONN",
  "ECONNABORTED",
  "ECONNRESET",
]);

/**
 * A listening socket (TCP, TLS or Unix): `accept()` connections one by one,
 * or iterate. Concurrent `accept()` calls each get their own connection, in
 * call order. Breaking out of a `for await` does not close it; `close()`,
 * `using` or `await using` does, and ends any loop over it.
 *
 * With TLS, each connection's handshake runs when it is accepted, several at
 * once, so one slow client holds up no other; a client whose handshake fails
 * or takes over `handshakeTimeout` ms is dropped quietly and never handed out.
 *
 * @typeParam T The type of the accepted sockets' frames.
 * @typeParam A The address type: `Deno.NetAddr`, or `Deno.UnixAddr` for a
 * Unix socket.
 *
 * @example Closing ends the loop
 * ```ts
 * import { listen } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const server = listen();
 * setTimeout(() => server.close(), 10);
 * let accepted = 0;
 * for await (const socket of server) {
 *   accepted++;
 *   socket.close();
 * }
 * assertEquals(accepted, 0);
 * ```
 */
export class TcpServer<T = Uint8Array, A extends Deno.Addr = Deno.NetAddr>
  implements AsyncIterable<TcpSocket<T, A>>, AsyncDisposable, Disposable {
  /**
   * The address listened on (with the port the OS picked), as the transport
   * gives it: `{ transport: "unix", path }` for a Unix socket.
   */
  readonly addr: A;
  readonly #listener: Deno.Listener<Deno.Conn<A>, A>;
  readonly #options: SocketOptions<T>;
  /** The last accept asked for: the runtime takes one at a time. */
  #closed = false;
  /** TLS only: the handshake deadline; undefined for other transports. */
  readonly #handshakeTimeout: number | undefined;
  /** TLS only: accept() calls waiting for a connection that completed its handshake. */
  #waiting: {
    resolve: (socket: TcpSocket<T, A>) => void;
    reject: (error: unknown) => void;
  }[] = [];
  /** TLS only: connections that completed their handshake, not yet taken. */
  #ready: TcpSocket<T, A>[] = [];
  /** TLS only: the handshakes running; aborting one closes its connection. */
  readonly #handshakes = new Set<AbortController>();
  #pumping = false;

  /**
   * Wraps a listener; most code calls {@linkcode listen} instead.
   *
   * @param listener The listener; the server owns it from now on.
   * @param options The accepted sockets' options; with `tls` (the listener
   * is a `Deno.listenTls` one), each connection's handshake runs in
   * `accept()`.
   */
  constructor(
    listener: Deno.Listener<Deno.Conn<A>, A>,
    options: SocketOptions<T> & {
      tls?: TlsListenOptions;
      handshakeTimeout?: number;
    } = {},
  ) {
    this.#listener = listener;
    this.#options = options;
    this.addr = listener.addr;
    this.#handshakeTimeout = options.tls === undefined
      ? undefined
      : options.handshakeTimeout ?? HANDSHAKE_TIMEOUT;
  }

  /**
   * Waits for the next connection. A client that reset while its connection
   * waited to be accepted is skipped, not an error; so is a TLS client whose
   * handshake fails.
   *
   * @throws {SocketError} `ECLOSED` once the server is closed.
   */
  accept(): Promise<TcpSocket<T, A>> {
    if (this.#closed) return Promise.reject(closedError("accept"));
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      // Next microtask: a close() right after accept() then never starts a
      // runtime accept, whose listener would release its port only later.
      queueMicrotask(() => this.#pump());
    });
  }

  /**
   * Accepts while callers wait, one runtime accept at a time (the runtime
   * refuses a second while one is pending). A TLS connection's handshake runs
   * beside the next accepts, so one slow client holds up no other.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#waiting.length > 0) {
        let conn: Deno.Conn<A>;
        try {
          conn = await this.#listener.accept();
        } catch (error) {
          if (this.#closed) break;
          const failure = toSocketError(error, "accept");
          if (!GONE_BEFORE_ACCEPT.has(failure.code)) {
            this.#waiting.shift()?.reject(failure);
          }
          continue;
        }
        if (this.#handshakeTimeout === undefined) {
          this.#deliver(new TcpSocket(conn, this.#options));
        } else {
          this.#handshake(conn);
        }
      }
    } finally {
      this.#pumping = false;
      if (this.#closed) this.#refuseWaiting();
    }
  }

  #handshake(conn: Deno.Conn<A>): void {
    const controller = new AbortController();
    this.#handshakes.add(controller);
    handshake(conn, {
      timeout: this.#handshakeTimeout,
      signal: controller.signal,
    }, "accept a TLS connection").then(() => {
      this.#deliver(new TcpSocket(conn, this.#options));
    }, () => {
      // A client that failed its handshake (or took too long): a quiet end.
      // handshake() closed its connection.
    }).finally(() => this.#handshakes.delete(controller));
  }

  /** Hands `socket` to the first caller waiting, or keeps it for the next. */
  #deliver(socket: TcpSocket<T, A>): void {
    if (this.#closed) return socket.destroy();
    const waiter = this.#waiting.shift();
    if (waiter === undefined) this.#ready.push(socket);
    else waiter.resolve(socket);
  }

  /**
   * Stops listening; pending `accept`s fail with `ECLOSED`. TLS handshakes
   * still running are dropped. Safe to call again.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const controller of this.#handshakes) controller.abort();
    for (const socket of this.#ready.splice(0)) socket.destroy();
    // A runtime accept in flight releases the listener (its port, its Unix
    // socket file) only when it settles: its waiters are told then.
    if (!this.#pumping) this.#refuseWaiting();
  }

  #refuseWaiting(): void {
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(closedError("accept"));
    }
  }

  /** The connections, until the server is closed. */
  [Symbol.asyncIterator](): AsyncIterator<TcpSocket<T, A>> {
    return {
      next: async () => {
        try {
          return { value: await this.accept(), done: false };
        } catch (error) {
          if (this.#closed) return { value: undefined, done: true };
          throw error;
        }
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** Closes the server: what `using` does. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes the server: what `await using` does. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** Codes of a peer that went away: a normal end for a handler. */
const PEER_GONE: ReadonlySet<string> = new Set([
  "EOF",
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
]);

function isQuiet(
  error: unknown,
  socket: TcpSocket<unknown, Deno.Addr>,
): boolean {
  if (!(error instanceof SocketError)) return false;
  return PEER_GONE.has(error.code) ||
    (error.code === "ECLOSED" && closedByServer(socket));
}

/**
 * The connection loop on a Unix domain socket: `serve({ path }, handler)`,
 * with every option as over TCP.
 *
 * Requires `allow-read`, `allow-write` and `allow-net` (`unix:<path>`)
 * permissions.
 *
 * @param options The socket file's path, limits, and the shutdown signal.
 * @param handler The communication loop for one client.
 * @returns The running server; its `addr` is `{ transport: "unix", path }`.
 * @tags allow-read, allow-write, allow-net
 */
export function serve(
  options: UnixServeOptions,
  handler: (
    socket: TcpSocket<Uint8Array, Deno.UnixAddr>,
  ) => void | Promise<void>,
): Server<Deno.UnixAddr>;
/**
 * The connection loop on a Unix domain socket, for sockets whose frames are
 * the values of `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function serve<T>(
  options: UnixServeOptions<T> & { framing: Framing<T> },
  handler: (socket: TcpSocket<T, Deno.UnixAddr>) => void | Promise<void>,
): Server<Deno.UnixAddr>;
/**
 * The connection loop: listens, and runs `handler` for each client
 * concurrently, like `Deno.serve` for TCP; with `tls`, over TLS (each
 * client's handshake runs beside the others: a slow one holds up no other
 * client and no `shutdown()`, and one that fails it is dropped quietly,
 * never reported). A handler's socket is closed when it returns or throws. A handler that throws is reported to `onError`; a peer
 * that disconnects or resets (`EOF`, `ECONNRESET`, `EPIPE`) ends it quietly,
 * and so do `idleTimeout` and the shutdown deadline.
 *
 * Requires `allow-net` permission.
 *
 * @param options Where to listen, limits, and the shutdown signal.
 * @param handler The communication loop for one client.
 * @returns The running server: `addr`, `finished`, `shutdown()`.
 * @throws {SocketError} `EADDRINUSE`, `EPERM`, as for {@linkcode listen}.
 *
 * @example An upper-casing line server
 * ```ts
 * import { connect, delimited, serve } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const lines = delimited();
 * const server = serve({ port: 0, framing: lines }, async (socket) => {
 *   for await (const line of socket.frames()) {
 *     const text = new TextDecoder().decode(line).toUpperCase();
 *     await socket.sendFrame(new TextEncoder().encode(text));
 *   }
 * });
 * await using client = await connect({ port: server.addr.port, framing: lines });
 * await client.sendFrame(new TextEncoder().encode("hello"));
 * assertEquals(new TextDecoder().decode((await client.recvFrame())!), "HELLO");
 * client.close();
 * await server.shutdown();
 * ```
 * @tags allow-net
 */
export function serve(
  options: ServeOptions,
  handler: (socket: TcpSocket) => void | Promise<void>,
): Server;
/**
 * The connection loop for sockets whose frames are the values of
 * `options.framing`: the handler gets a `TcpSocket<T>`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function serve<T>(
  options: ServeOptions<T> & { framing: Framing<T> },
  handler: (socket: TcpSocket<T>) => void | Promise<void>,
): Server;
/**
 * The connection loop over whichever transport `options` name, when that is
 * only known at run time; the handler's socket has `Deno.Addr` addresses.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function serve<T = Uint8Array>(
  options: ServeOptions<T> | UnixServeOptions<T>,
  handler: (socket: TcpSocket<T, Deno.Addr>) => void | Promise<void>,
): Server<Deno.Addr>;
export function serve<T>(
  options: ServeOptions<T> | UnixServeOptions<T>,
  // deno-lint-ignore no-explicit-any
  handler: (socket: TcpSocket<T, any>) => void | Promise<void>,
  // deno-lint-ignore no-explicit-any
): Server<any> {
  const { signal, idleTimeout, maxConnections, shutdownTimeout = 5000 } =
    options;
  checkDuration(idleTimeout, "idleTimeout", "serve");
  checkDuration(shutdownTimeout, "shutdownTimeout", "serve");
  if (maxConnections !== undefined) {
    checkCount(maxConnections, 0, "maxConnections", "serve");
  }
  const server = bind(options);
  const onError = options.onError ??
    ((error: unknown) =>
      console.error("serve: a connection handler failed:", error));
  const sockets = new Set<TcpSocket<T, Deno.Addr>>();
  const handlers = new Set<Promise<void>>();
  let stopping = false;

  const report = (error: unknown) => {
    try {
      onError(error);
    } catch (failure) {
      console.error("serve: onError threw:", failure);
    }
  };

  const run = async (socket: TcpSocket<T, Deno.Addr>) => {
    try {
      await handler(socket);
    } catch (error) {
      if (!isQuiet(error, socket)) report(error);
    } finally {
      await socket[Symbol.asyncDispose]();
      sockets.delete(socket);
    }
  };

  const accepting = (async () => {
    while (!stopping) {
      let socket: TcpSocket<T, Deno.Addr>;
      try {
        socket = await server.accept();
      } catch (error) {
        if (stopping) break;
        report(error); // e.g. EMFILE: out of file descriptors
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (maxConnections !== undefined && sockets.size >= maxConnections) {
        socket.destroy();
        continue;
      }
      sockets.add(socket);
      if (idleTimeout !== undefined) socket.idleTimeout = idleTimeout;
      const task = run(socket);
      handlers.add(task);
      task.finally(() => handlers.delete(task));
    }
  })();

  const finished = accepting.then(async () => {
    await Promise.all(handlers);
  });

  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      server.close();
      signal?.removeEventListener("abort", onAbort);
      await accepting;
      const deadline = setTimeout(() => {
        for (const socket of sockets) destroyByServer(socket);
      }, shutdownTimeout);
      try {
        await finished;
      } finally {
        clearTimeout(deadline);
      }
    })();
    return stopped;
  };
  const onAbort = () => void shutdown();
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });

  return { addr: server.addr, finished, shutdown };
}
