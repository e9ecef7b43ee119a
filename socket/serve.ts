// serve: the connection loop. Listens, runs a handler per client, closes each
// client's socket when its handler ends, and shuts down within a deadline.

import { SocketError } from "../errors.ts";
import type { Framing } from "../framing/types.ts";
import {
  checkCount,
  checkDuration,
  checkFunction,
  checkOptions,
  checkSignal,
} from "../io/validate.ts";
import type { ListenOptions, UnixListenOptions } from "../transport/options.ts";
import { lifecycleOf, type StreamSocket } from "./stream_socket.ts";
import { closedError } from "../io/runtime_errors.ts";
import { listenerFor } from "./open.ts";
import { StreamServer } from "./server.ts";

/** Milliseconds `shutdown()` waits for handlers, by default. */
const SHUTDOWN_TIMEOUT = 5000;

/** What {@linkcode serve} takes besides where to listen. */
export interface ServeLoopOptions {
  /** Aborting it is `shutdown()`. */
  signal?: AbortSignal;
  /** Called with each error a handler throws; default: logged to stderr. */
  onError?: (error: unknown) => void;
  /** Milliseconds with no byte received or written after which a connection is closed. */
  idleTimeout?: number;
  /**
   * Connections served at once; further ones are closed on arrival. Over
   * TLS, connections count from their accept, handshake included, until
   * their descriptor is released, and none is accepted while this many are
   * open: the rest wait in the kernel's backlog (closing one during its
   * handshake would not free its descriptor).
   */
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
 * What {@linkcode serve} returned before there was one server type: the part
 * of a {@linkcode StreamServer} that a running serve loop offers.
 *
 * @typeParam A The address type: `Deno.NetAddr`, or `Deno.UnixAddr` for a
 * Unix socket.
 * @deprecated Use {@linkcode StreamServer}, which `serve` returns.
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
 * Codes of a peer that went away: a normal end for a handler. A peer whose
 * TLS broke after the handshake (a corrupt record) is gone the same way.
 */
const PEER_GONE: ReadonlySet<string> = new Set([
  "EOF",
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETLS",
]);

function isQuiet(
  error: unknown,
  socket: StreamSocket<unknown, Deno.Addr>,
): boolean {
  if (!(error instanceof SocketError)) return false;
  // Closed by a limit: idleTimeout, frameTimeout, the shutdown deadline.
  return PEER_GONE.has(error.code) ||
    ((error.code === "ECLOSED" || error.code === "ETIMEDOUT") &&
      lifecycleOf(socket).cause === "server");
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
    socket: StreamSocket<Uint8Array, Deno.UnixAddr>,
  ) => void | Promise<void>,
): StreamServer<Uint8Array, Deno.UnixAddr>;
/**
 * The connection loop on a Unix domain socket, for sockets whose frames are
 * the values of `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function serve<T>(
  options: UnixServeOptions<T> & { framing: Framing<T> },
  handler: (socket: StreamSocket<T, Deno.UnixAddr>) => void | Promise<void>,
): StreamServer<T, Deno.UnixAddr>;
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
 * @throws {TypeError} `handler` or `onError` is not a function, or another
 * option has the wrong type (named in the message), before anything listens.
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
  handler: (socket: StreamSocket) => void | Promise<void>,
): StreamServer;
/**
 * The connection loop for sockets whose frames are the values of
 * `options.framing`: the handler gets a `StreamSocket<T>`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function serve<T>(
  options: ServeOptions<T> & { framing: Framing<T> },
  handler: (socket: StreamSocket<T>) => void | Promise<void>,
): StreamServer<T>;
/**
 * The connection loop over whichever transport `options` name, when that is
 * only known at run time; the handler's socket has `Deno.Addr` addresses.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function serve<T = Uint8Array>(
  options: ServeOptions<T> | UnixServeOptions<T>,
  handler: (socket: StreamSocket<T, Deno.Addr>) => void | Promise<void>,
): StreamServer<T, Deno.Addr>;
export function serve<T>(
  options: ServeOptions<T> | UnixServeOptions<T>,
  // deno-lint-ignore no-explicit-any
  handler: (socket: StreamSocket<T, any>) => void | Promise<void>,
  // deno-lint-ignore no-explicit-any
): StreamServer<T, any> {
  checkOptions(options, "serve");
  checkFunction(handler, "handler", "serve");
  const { idleTimeout, maxConnections, shutdownTimeout } = options;
  checkSignal(options.signal, "serve");
  checkFunction(options.onError, "onError", "serve", true);
  checkDuration(idleTimeout, "idleTimeout", "serve");
  checkDuration(shutdownTimeout, "shutdownTimeout", "serve");
  if (maxConnections !== undefined) {
    checkCount(maxConnections, 0, "maxConnections", "serve");
  }
  return new ServedServer(listenerFor(options), options, handler);
}

/**
 * The server `serve` returns: a StreamServer whose connections go to the
 * handler, and whose shutdown waits for the handlers.
 */
class ServedServer<T, A extends Deno.Addr> extends StreamServer<T, A> {
  readonly #handler: (socket: StreamSocket<T, A>) => void | Promise<void>;
  readonly #options: ServeLoopOptions;
  /** Whether the StreamServer itself bounds connections (TLS). */
  readonly #tls: boolean;
  /** Sockets whose handlers run; `#allReturned` resolves when none is left. */
  readonly #sockets = new Set<StreamSocket<T, A>>();
  #allReturned: PromiseWithResolvers<void> | undefined;
  readonly #accepting: Promise<void>;
  readonly #finished: Promise<void>;
  #stopped: Promise<void> | undefined;
  readonly #onAbort = () => void this.shutdown();

  constructor(
    listener: Deno.Listener<Deno.Conn<A>, A>,
    options: (ServeOptions<T> | UnixServeOptions<T>) & ServeLoopOptions,
    handler: (socket: StreamSocket<T, A>) => void | Promise<void>,
  ) {
    super(listener, options);
    this.#handler = handler;
    this.#options = options;
    this.#tls = "tls" in options && options.tls !== undefined;
    this.#accepting = this.#acceptLoop();
    this.#finished = this.#accepting.then(() => this.#allHandlers());
    const { signal } = options;
    if (signal?.aborted) this.#onAbort();
    else signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  override get finished(): Promise<void> {
    return this.#finished;
  }

  /** Refused: a `serve` server's connections go to its handler. */
  override accept(): Promise<StreamSocket<T, A>> {
    return Promise.reject(
      new SocketError(
        "EBUSY",
        "Cannot accept: this server's connections go to its serve() handler",
      ),
    );
  }

  /**
   * Stops accepting at once, then resolves when every handler has returned;
   * sockets still open after `shutdownTimeout` ms are closed.
   */
  override shutdown(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.close();
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    await this.#accepting;
    const deadline = setTimeout(() => {
      for (const socket of this.#sockets) {
        lifecycleOf(socket).destroy(closedError("use socket"), "server");
      }
    }, this.#options.shutdownTimeout ?? SHUTDOWN_TIMEOUT);
    try {
      await this.#finished;
    } finally {
      clearTimeout(deadline);
    }
  }

  async #acceptLoop(): Promise<void> {
    const { maxConnections, idleTimeout } = this.#options;
    while (!this.closed) {
      let socket: StreamSocket<T, A>;
      try {
        socket = await super.accept();
      } catch (error) {
        if (this.closed) break;
        this.#report(error); // e.g. EMFILE: out of file descriptors
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      // Over TLS, the StreamServer accepts no more than maxConnections
      // (handshakes included): nothing to refuse here.
      if (
        maxConnections !== undefined && !this.#tls &&
        this.#sockets.size >= maxConnections
      ) {
        socket.destroy();
        continue;
      }
      this.#sockets.add(socket);
      if (idleTimeout !== undefined) socket.idleTimeout = idleTimeout;
      // No task kept per connection: its promise and a `finally` would cost
      // more than the set entry that counts it (bench:net idle).
      this.#run(socket);
    }
  }

  async #run(socket: StreamSocket<T, A>): Promise<void> {
    try {
      await this.#handler(socket);
    } catch (error) {
      if (!isQuiet(error, socket)) this.#report(error);
    } finally {
      try {
        await socket[Symbol.asyncDispose]();
      } finally {
        this.#sockets.delete(socket);
        if (this.#sockets.size === 0) {
          this.#allReturned?.resolve();
          this.#allReturned = undefined;
        }
      }
    }
  }

  async #allHandlers(): Promise<void> {
    while (this.#sockets.size > 0) {
      this.#allReturned ??= Promise.withResolvers();
      await this.#allReturned.promise;
    }
  }

  #report(error: unknown): void {
    const onError = this.#options.onError ??
      ((error: unknown) =>
        console.error("serve: a connection handler failed:", error));
    try {
      onError(error);
    } catch (failure) {
      console.error("serve: onError threw:", failure);
    }
  }
}
