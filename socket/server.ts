// StreamServer: a listening socket that hands out StreamSockets, in call
// order, over TCP, TLS (each handshake run beside the next accepts) or a
// Unix domain socket.

import {
  closedError,
  closeQuietly,
  toSocketError,
} from "../io/runtime_errors.ts";
import { type CallOptions, WaitQueue } from "../io/wait_queue.ts";
import { untilClosed } from "../io/iterate.ts";
import { RESOLVED } from "../io/writer.ts";
import { handshake } from "../transport/tls.ts";
import type { SocketOptions, TlsListenOptions } from "../transport/options.ts";
import { lifecycleOf, StreamSocket } from "./stream_socket.ts";

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
 * or iterate; `listen` returns one, and so does `serve`, whose connections go
 * to its handler. Concurrent `accept()` calls each get their own connection, in
 * call order. Breaking out of a `for await` does not close it; `close()`,
 * `using` or `await using` does, and ends any loop over it.
 *
 * With TLS, each connection's handshake runs when it is accepted, several at
 * once, so one slow client holds up no other; a client whose handshake fails
 * or takes over `handshakeTimeout` ms is dropped quietly and never handed out.
 * The runtime keeps the descriptor of a connection closed during its
 * handshake until the client sends or closes (deno#14547), so such a
 * connection stays open here, and counted, until then.
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
export class StreamServer<T = Uint8Array, A extends Deno.Addr = Deno.NetAddr>
  implements AsyncIterable<StreamSocket<T, A>>, AsyncDisposable, Disposable {
  /**
   * The address listened on (with the port the OS picked), as the transport
   * gives it: `{ transport: "unix", path }` for a Unix socket.
   */
  readonly addr: A;
  readonly #listener: Deno.Listener<Deno.Conn<A>, A>;
  readonly #options: SocketOptions<T>;
  #closed = false;
  readonly #stopped = Promise.withResolvers<void>();
  /** TLS only: the handshake deadline; undefined for other transports. */
  readonly #handshakeTimeout: number | undefined;
  /** accept() calls waiting, in call order. */
  readonly #waiting = new WaitQueue<undefined, StreamSocket<T, A>>();
  /** Connections accepted (TLS: handshake completed) while nobody waited. */
  #ready: StreamSocket<T, A>[] = [];
  /** TLS only: the handshakes running; aborting one closes its connection. */
  readonly #handshakes = new Set<AbortController>();
  /** Whether a runtime accept is in flight (the runtime takes one at a time). */
  #pumping = false;
  /**
   * TLS only: connections open at most (`serve`'s maxConnections), counted
   * from their accept, handshake included, until their descriptor is
   * released; while they are all taken, nothing is accepted and further
   * clients wait in the kernel's backlog.
   */
  readonly #maxOpen: number | undefined;
  /** TLS only: connections accepted whose descriptor is not released yet. */
  #open = 0;
  /** Releases waiting for the runtime's turn; cleared on close. */
  readonly #releasing = new Set<ReturnType<typeof setTimeout>>();
  /** Resolved when a connection is released (room to accept again) or on close. */
  #room: PromiseWithResolvers<void> | undefined;

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
      maxConnections?: number;
    } = {},
  ) {
    this.#listener = listener;
    this.#options = options;
    this.addr = listener.addr;
    const tls = options.tls !== undefined;
    this.#handshakeTimeout = tls
      ? options.handshakeTimeout ?? HANDSHAKE_TIMEOUT
      : undefined;
    this.#maxOpen = tls ? options.maxConnections : undefined;
  }

  /** Whether {@linkcode StreamServer.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Resolves once the server has stopped: closed, and for a `serve` server,
   * once every handler has returned too.
   */
  get finished(): Promise<void> {
    return this.#stopped.promise;
  }

  /**
   * Waits for the next connection. A client that reset while its connection
   * waited to be accepted is skipped, not an error; so is a TLS client whose
   * handshake fails.
   *
   * @param options A timeout or signal for the wait (`ETIMEDOUT`,
   * `ECANCELED`); a connection that arrives later goes to the next call.
   * @throws {SocketError} `ECLOSED` once the server is closed.
   */
  accept(options: CallOptions = {}): Promise<StreamSocket<T, A>> {
    if (this.#closed) return Promise.reject(closedError("accept"));
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    const waiting = this.#waiting.wait(undefined, options, "accept");
    // Next microtask: a close() right after accept() then never starts a
    // runtime accept, whose listener would release its port only later.
    // (A `then`: the runtime's queueMicrotask is an op, ~0.9 µs an accept.)
    if (!this.#pumping) RESOLVED.then(this.#pumpLater);
    return waiting;
  }

  readonly #pumpLater = (): void => void this.#pump();

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
        if (this.#maxOpen !== undefined && this.#open >= this.#maxOpen) {
          this.#room ??= Promise.withResolvers();
          await this.#room.promise;
          continue;
        }
        let conn: Deno.Conn<A>;
        try {
          conn = await this.#listener.accept();
        } catch (error) {
          if (this.#closed) break;
          const failure = toSocketError(error, "accept");
          if (!GONE_BEFORE_ACCEPT.has(failure.code)) {
            this.#waiting.rejectHead(failure);
          }
          continue;
        }
        if (this.#handshakeTimeout === undefined) {
          this.#deliver(new StreamSocket(conn, this.#options));
        } else {
          this.#handshake(conn);
        }
      }
    } finally {
      this.#pumping = false;
      if (this.#closed) this.#refuseWaiting();
    }
  }

  /**
   * Runs a TLS connection's handshake; counts the connection until its
   * descriptor is released. Past the deadline the client is dropped, but
   * the connection is not closed until its handshake ends: closed sooner,
   * the runtime would keep its descriptor anyway, and nobody would know
   * when it lets go.
   */
  #handshake(conn: Deno.Conn<A>): void {
    this.#open++;
    const controller = new AbortController();
    this.#handshakes.add(controller);
    let late = false;
    const deadline = setTimeout(() => late = true, this.#handshakeTimeout);
    handshake(conn, { signal: controller.signal }, "accept a TLS connection")
      .then((alpnProtocol) => {
        if (late || this.#closed) {
          closeQuietly(conn);
          return this.#release();
        }
        const socket = new StreamSocket(conn, this.#options, alpnProtocol);
        lifecycleOf(socket).released.then(() => this.#release());
        this.#deliver(socket);
      }, () => {
        // A client that failed its handshake: a quiet end. handshake()
        // closed its connection, which the runtime has let go of.
        this.#release();
      }).finally(() => {
        clearTimeout(deadline);
        this.#handshakes.delete(controller);
      });
  }

  /**
   * A TLS connection is closed: room for another, once the runtime has had
   * a turn of its event loop to drop the descriptor (it does so in a task
   * of its own, after the close).
   */
  #release(): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#releasing.delete(timer);
      this.#open--;
      this.#room?.resolve();
      this.#room = undefined;
    }, 0);
    this.#releasing.add(timer);
  }

  /** Hands `socket` to the first caller waiting, or keeps it for the next. */
  #deliver(socket: StreamSocket<T, A>): void {
    if (this.#closed) return socket.destroy();
    if (this.#waiting.length === 0) this.#ready.push(socket);
    else this.#waiting.resolveHead(socket);
  }

  /**
   * Stops listening; pending `accept`s fail with `ECLOSED`. TLS handshakes
   * still running are dropped. Safe to call again.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#listener);
    for (const controller of this.#handshakes) controller.abort();
    this.#room?.resolve();
    this.#room = undefined;
    for (const timer of this.#releasing) clearTimeout(timer);
    this.#releasing.clear();
    for (const socket of this.#ready.splice(0)) socket.destroy();
    // A runtime accept in flight releases the listener (its port, its Unix
    // socket file) only when it settles: its waiters are told then.
    if (!this.#pumping) this.#refuseWaiting();
  }

  /**
   * Stops accepting at once and resolves once the server has stopped (see
   * {@linkcode StreamServer.finished}). For a `serve` server, handlers still
   * running after `shutdownTimeout` ms have their sockets closed.
   */
  shutdown(): Promise<void> {
    this.close();
    return this.finished;
  }

  #refuseWaiting(): void {
    this.#waiting.close(closedError("accept"));
    this.#stopped.resolve();
  }

  /** The connections, until the server is closed. */
  [Symbol.asyncIterator](): AsyncIterableIterator<StreamSocket<T, A>> {
    return untilClosed(() => this.accept(), () => this.#closed);
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
