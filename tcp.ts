/**
 * TCP: `listen`, `serve`, `connect`, `tryConnect` and {@linkcode TcpSocket}.
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
 * All of it needs `--allow-net` for the addresses used.
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
  canceled,
  closedError,
  timedOut,
  toSocketError,
} from "./_runtime_errors.ts";
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
  TcpSocket,
} from "./_tcp_socket.ts";

/** Options for {@linkcode connect} and {@linkcode tryConnect}. */
export interface ConnectOptions<T = Uint8Array> extends SocketOptions<T> {
  /**
   * The host to connect to.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port to connect to. */
  port: number;
  /** Milliseconds the connect itself may take before `ETIMEDOUT`. */
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
}

/** Options for {@linkcode serve}. */
export interface ServeOptions<T = Uint8Array> extends ListenOptions<T> {
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

/** A running {@linkcode serve} loop. */
export interface Server {
  /** The address it listens on (with the port the OS picked). */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has stopped and every handler has returned. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting at once, then resolves when every handler has returned;
   * sockets still open after `shutdownTimeout` ms are closed.
   */
  shutdown(): Promise<void>;
}

/**
 * Opens a TCP connection.
 *
 * Requires `allow-net` permission.
 *
 * @param options Where to connect, the timeout and the socket's options.
 * @returns The connected socket.
 * @throws {SocketError} `ECONNREFUSED` (nothing listens there), `ETIMEDOUT`,
 * `ECANCELED`, `EPERM` (no `--allow-net`), `ENOTFOUND`…
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
export function connect<T>(options: ConnectOptions<T>): Promise<TcpSocket<T>> {
  try {
    return open(options, checkConnect(options));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Connects with options `checkConnect` accepted. */
async function open<T>(
  options: ConnectOptions<T>,
  where: string,
): Promise<TcpSocket<T>> {
  const { hostname = "127.0.0.1", port, timeout, signal } = options;
  if (signal?.aborted) throw canceled(where, signal);
  const attempt = new AbortController();
  const onAbort = () => attempt.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let timedOutNow = false;
  const timer = timeout === undefined ? undefined : setTimeout(() => {
    timedOutNow = true;
    attempt.abort();
  }, timeout);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port, signal: attempt.signal });
  } catch (error) {
    if (timedOutNow) {
      throw new SocketError("ETIMEDOUT", timedOut(where, timeout!).message, {
        cause: error,
      });
    }
    if (signal?.aborted) throw canceled(where, signal);
    throw toSocketError(error, where);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  return new TcpSocket(conn, options);
}

/** Checks every option of `connect` before any I/O; returns the action's name. */
function checkConnect(options: ConnectOptions<unknown>): string {
  const hostname = checkHostname(
    withDefault(options.hostname, "127.0.0.1"),
    "connect",
  );
  const port = checkPort(options.port, 1, "connect");
  checkDuration(options.timeout, "timeout", "connect");
  checkSocketOptions(options, "connect");
  return `connect to ${hostname}:${port}`;
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
 * @param options As for {@linkcode connect}.
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
export async function tryConnect<T>(
  options: ConnectOptions<T>,
): Promise<
  { ok: true; socket: TcpSocket<T> } | { ok: false; error: SocketError }
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
 * Listens for TCP connections, on 127.0.0.1 and a free port by default.
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
export function listen<T>(options: ListenOptions<T> = {}): TcpServer<T> {
  return bind(options);
}

/** `listen`, for options of any frame type. */
function bind<T>(options: ListenOptions<T>): TcpServer<T> {
  const { reusePort, backlog } = options;
  const hostname = checkHostname(
    withDefault(options.hostname, "127.0.0.1"),
    "listen",
  );
  const port = checkPort(options.port ?? 0, 0, "listen");
  checkSocketOptions(options, "listen");
  if (backlog !== undefined) checkCount(backlog, 0, "backlog", "listen");
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({
      hostname,
      port,
      transport: "tcp",
      ...(reusePort === undefined ? {} : { reusePort }),
      ...(backlog === undefined ? {} : { tcpBacklog: backlog }),
    });
  } catch (error) {
    throw toSocketError(error, `listen on ${hostname}:${port}`);
  }
  return new TcpServer(listener, options);
}

/** Accept errors of a connection that died in the queue, not of the listener. */
const GONE_BEFORE_ACCEPT: ReadonlySet<string> = new Set([
  "ENOTCONN",
  "ECONNABORTED",
  "ECONNRESET",
]);

/**
 * A listening TCP socket: `accept()` connections one by one, or iterate.
 * Concurrent `accept()` calls each get their own connection, in call order.
 * Breaking out of a `for await` does not close it; `close()`, `using` or
 * `await using` does, and ends any loop over it.
 *
 * @typeParam T The type of the accepted sockets' frames.
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
export class TcpServer<T = Uint8Array>
  implements AsyncIterable<TcpSocket<T>>, AsyncDisposable, Disposable {
  /** The address listened on (with the port the OS picked). */
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.TcpListener;
  readonly #options: SocketOptions<T>;
  /** The last accept asked for: the runtime takes one at a time. */
  #lastAccept: Promise<unknown> = Promise.resolve();
  #closed = false;

  /**
   * Wraps a listener; most code calls {@linkcode listen} instead.
   *
   * @param listener The listener; the server owns it from now on.
   * @param options The accepted sockets' options.
   */
  constructor(listener: Deno.TcpListener, options: SocketOptions<T> = {}) {
    this.#listener = listener;
    this.#options = options;
    this.addr = listener.addr;
  }

  /**
   * Waits for the next connection. A client that reset while its connection
   * waited to be accepted is skipped, not an error.
   *
   * @throws {SocketError} `ECLOSED` once the server is closed.
   */
  accept(): Promise<TcpSocket<T>> {
    // The runtime refuses a second accept while one is pending: queue them.
    const next = this.#lastAccept.then(() => this.#acceptOne());
    this.#lastAccept = next.catch(() => {});
    return next;
  }

  async #acceptOne(): Promise<TcpSocket<T>> {
    for (;;) {
      if (this.#closed) throw closedError("accept");
      try {
        return new TcpSocket(await this.#listener.accept(), this.#options);
      } catch (error) {
        if (this.#closed) throw closedError("accept");
        const failure = toSocketError(error, "accept");
        // A client that reset before it was accepted (the runtime reports
        // ENOTCONN, the OS may say ECONNABORTED): there is no connection to
        // hand out, and the listener is fine. Wait for the next one.
        if (!GONE_BEFORE_ACCEPT.has(failure.code)) throw failure;
      }
    }
  }

  /** Stops listening; pending `accept`s fail with `ECLOSED`. Safe to call again. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }

  /** The connections, until the server is closed. */
  [Symbol.asyncIterator](): AsyncIterator<TcpSocket<T>> {
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

function isQuiet(error: unknown, socket: TcpSocket<unknown>): boolean {
  if (!(error instanceof SocketError)) return false;
  return PEER_GONE.has(error.code) ||
    (error.code === "ECLOSED" && closedByServer(socket));
}

/**
 * The connection loop: listens, and runs `handler` for each client
 * concurrently, like `Deno.serve` for TCP. A handler's socket is closed when
 * it returns or throws. A handler that throws is reported to `onError`; a peer
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
export function serve<T>(
  options: ServeOptions<T>,
  handler: (socket: TcpSocket<T>) => void | Promise<void>,
): Server {
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
  const sockets = new Set<TcpSocket<T>>();
  const handlers = new Set<Promise<void>>();
  let stopping = false;

  const report = (error: unknown) => {
    try {
      onError(error);
    } catch (failure) {
      console.error("serve: onError threw:", failure);
    }
  };

  const run = async (socket: TcpSocket<T>) => {
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
      let socket: TcpSocket<T>;
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
