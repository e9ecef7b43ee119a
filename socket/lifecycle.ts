// The life of a stream socket's connection: the reader and writer over it,
// the idle watch, half-close, close (which still flushes, within a linger),
// destroy, and who closed it. The socket facade checks arguments and calls
// in here; serve reads `cause` to end a handler quietly.

import { SocketError } from "../errors.ts";
import { IdleWatch } from "../io/idle_watch.ts";
import { Reader } from "../io/reader.ts";
import { canceled, closedError, closeQuietly } from "../io/runtime_errors.ts";
import type { CallOptions } from "../io/wait_queue.ts";
import { BufferedWriter, RESOLVED } from "../io/writer.ts";

/**
 * The longest `close()` goes on writing what was accepted: then the rest is
 * dropped and the connection released, whatever the peer does.
 */
const CLOSE_LINGER = 10_000;

/**
 * Who closed the socket: its user (`close`, `destroy`), or a limit (an idle
 * timeout, a frame deadline, `serve`'s shutdown deadline), which ends a
 * served handler quietly.
 */
export type CloseCause = "caller" | "server";

/**
 * A connection's reader, writer and idle watch, and how it closes: at once,
 * or after a flush bounded by the close linger.
 */
export class Lifecycle {
  readonly conn: Deno.Conn;
  readonly reader: Reader;
  readonly writer: BufferedWriter;
  /**
   * The error every call fails with once the socket is closed. A plain
   * `close()` makes it when first asked for: its stack costs more than the
   * rest of a served connection's close, and most closes fail no call.
   */
  get closed(): SocketError | undefined {
    if (this.#closedPlainly && this.#closed === undefined) {
      this.#closed = closedError("use socket");
    }
    return this.#closed;
  }
  #closed: SocketError | undefined;
  #closedPlainly = false;
  cause: CloseCause | undefined;
  /** Whether this side has sent FIN (`closeWrite`). */
  writeClosed = false;
  #connClosed = false;
  /** Made when first asked for: most connections are never waited on. */
  #released: PromiseWithResolvers<void> | undefined;
  #linger: ReturnType<typeof setTimeout> | undefined;
  readonly #watch: IdleWatch;
  #idleTimeout: number | undefined;

  constructor(conn: Deno.Conn, highWaterMark: number) {
    this.conn = conn;
    const progress = () => this.#watch.progress();
    this.reader = new Reader(conn, progress, (ms) =>
      this.destroy(
        new SocketError(
          "ETIMEDOUT",
          `Cannot receive a frame: its last byte did not arrive within ${ms} ms of its first (frameTimeout)`,
        ),
        "server",
      ));
    this.writer = new BufferedWriter(conn, highWaterMark, progress);
    this.#watch = new IdleWatch(this.writer);
  }

  get idleTimeout(): number | undefined {
    return this.#idleTimeout;
  }

  /** Closes the connection once `ms` pass without progress (`undefined`: never). */
  set idleTimeout(ms: number | undefined) {
    this.#watch.stop();
    this.#idleTimeout = ms;
    if (ms === undefined || this.isClosed) return;
    this.#watch.start(ms, () =>
      this.destroy(
        new SocketError(
          "ECLOSED",
          `Socket closed: no byte received or sent for ${ms} ms (idleTimeout)`,
        ),
        "server",
      ));
  }

  /** Whether calls now fail (`close`, `destroy`, or a TLS upgrade began). */
  get isClosed(): boolean {
    return this.#closedPlainly || this.#closed !== undefined;
  }

  /** Resolves once the runtime's connection is closed (or handed over). */
  get released(): Promise<void> {
    if (this.#released === undefined) {
      // Closed at once (nothing left to write): what serve's handlers meet.
      if (this.#connClosed) return RESOLVED;
      this.#released = Promise.withResolvers();
    }
    return this.#released.promise;
  }

  /**
   * Fails every pending and later call at once; bytes accepted are still
   * written, and the connection closes once they are, or at the latest
   * after the linger, whatever the peer does.
   */
  close(): void {
    if (this.isClosed) return;
    this.markClosed();
    // Not "nothing queued": a write may still be in flight with nothing queued.
    const flushed = this.writer.flush();
    if (flushed === RESOLVED) return this.#closeConn();
    // A deadline, not an idle timer: a peer that reads a byte now and then
    // must not keep the connection (or a server's slot) for ever.
    this.#linger = setTimeout(
      () => this.destroy(closedError("use socket")),
      CLOSE_LINGER,
    );
    flushed.catch(() => {}).finally(() => this.#closeConn());
  }

  /** Closes at once, dropping unwritten bytes; `reason` is what calls see. */
  destroy(reason: SocketError, cause: CloseCause = "caller"): void {
    this.cause ??= cause;
    if (this.#connClosed) return;
    // After close(), the connection may still be open while it flushes.
    if (!this.isClosed) this.markClosed(reason);
    this.writer.fail(this.closed ?? reason);
    this.#closeConn();
  }

  /**
   * Fails every pending and later call with `reason` (by default `ECLOSED`,
   * made once a call needs it); the connection stays open.
   */
  markClosed(reason?: SocketError): void {
    if (reason === undefined) this.#closedPlainly = true;
    else this.#closed = reason;
    this.cause ??= "caller";
    const error = () => this.closed!;
    this.reader.close(error);
    this.writer.abandonWaiters(error);
    this.#watch.stop();
  }

  /** Why a write call must fail before accepting anything, if it must. */
  refuseWrite(
    action: string,
    options: CallOptions | undefined,
  ): Promise<never> | undefined {
    if (this.closed) return Promise.reject(this.closed);
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(canceled(action, signal));
    }
    if (this.writeClosed) {
      return Promise.reject(
        new SocketError("EPIPE", `Cannot ${action}: the write side is closed`),
      );
    }
    return undefined;
  }

  /** Hands the runtime's connection over (to a TLS upgrade): never closed here. */
  release(): void {
    this.#connClosed = true;
    this.#released?.resolve();
  }

  #closeConn(): void {
    if (this.#connClosed) return;
    this.#connClosed = true;
    this.#watch.stop();
    clearTimeout(this.#linger);
    closeQuietly(this.conn);
    this.#released?.resolve();
  }
}
