// StreamSocket: the facade of a stream socket (TCP, TLS or Unix). It checks
// arguments, applies per-call timeouts and signals, and hands every receive
// to the reader and every send to the writer; the connection's life (close,
// linger, idle timer) is lifecycle.ts's, STARTTLS is start_tls.ts's.

import { SocketError } from "../errors.ts";
import type { Framing } from "../framing/types.ts";
import { delimited } from "../framing/delimited.ts";
import { DEFAULT_FRAMING } from "../framing/length_prefixed.ts";
import { KiB, MiB } from "../bytes/sizes.ts";
import { RESOLVED } from "../io/writer.ts";
import type { Reader } from "../io/reader.ts";
import type { BufferedWriter } from "../io/writer.ts";
import { canceled, closedError, toSocketError } from "../io/runtime_errors.ts";
import { type CallOptions, withDeadline } from "../io/wait_queue.ts";
import {
  checkCount,
  checkDuration,
  checkFraming,
  checkOptions,
  checkPositive,
  checkSignal,
  checkText,
  toBytes,
} from "../io/validate.ts";
import { checkTlsClient } from "../transport/check.ts";
import { transportOf } from "../transport/tls.ts";
import type {
  SocketOptions,
  StartTlsOptions,
  Transport,
} from "../transport/options.ts";
import { Lifecycle } from "./lifecycle.ts";
import { upgradeInPlace } from "./start_tls.ts";

/** How many bytes `recv()` returns at most when not told. */
const RECV_DEFAULT = 64 * KiB;
/** The longest `recvUntil` result accepted when not told. */
const UNTIL_DEFAULT = MiB;

/** A socket's lifecycle, for `serve` (module-private). */
export let lifecycleOf: (socket: StreamSocket<unknown, Deno.Addr>) => Lifecycle;

/** Whether `value` is a framing rather than call options. */
function isFraming(value: unknown): value is Framing<unknown> {
  return value !== undefined &&
    typeof (value as Framing<unknown>).decode === "function";
}

/**
 * A connected TCP socket with lossless buffered reads, complete buffered
 * writes, framing, half-close and timeouts. Get one from `connect`, from
 * `listen(...).accept()`, or in a `serve` handler.
 *
 * Reads never lose or reorder a byte, whatever mix of `recv`, `recvExactly`,
 * `recvUntil`, `recvFrame` and `recvStream` is used. Concurrent receive calls
 * are served in call order, and a call that times out or is aborted leaves
 * the late bytes for the next one. Values returned are never overwritten,
 * except those of `recvFrameBorrowed` and `framesBorrowed`, which are valid
 * until the next receive call; `recvInto` fills the caller's own memory.
 *
 * Writes are buffered like Node's socket: `send` and `sendFrame` copy the
 * bytes and resolve at once while the buffer holds under `highWaterMark`
 * (1 MiB), then wait for it to drain. The first frame to an idle socket is
 * written at once; frames sent meanwhile leave together when a buffer fills,
 * on `flush()`, or when the caller next awaits anything else. `flush()` waits
 * for every byte; a write error is thrown by the next `send*`, `flush` or
 * `closeWrite`.
 *
 * @typeParam T The type of the socket's frames, set by its framing.
 *
 * @example Framed request and reply
 * ```ts
 * import { connect, serve } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const server = serve({ port: 0 }, async (socket) => {
 *   for await (const frame of socket.frames()) await socket.sendFrame(frame);
 * });
 * await using client = await connect({ port: server.addr.port });
 * await client.sendFrame(new TextEncoder().encode("ping"));
 * const reply = await client.recvFrame();
 * assertEquals(new TextDecoder().decode(reply!), "ping");
 * client.close();
 * await server.shutdown();
 * ```
 */
export class StreamSocket<T = Uint8Array, A extends Deno.Addr = Deno.NetAddr>
  implements AsyncDisposable {
  /**
   * This side's address (`getsockname`). Over a Unix socket,
   * `{ transport: "unix", path }`; a client's end has no name (`path` is
   * `null`).
   */
  readonly localAddr: A;
  /** The peer's address (`getpeername`). */
  readonly remoteAddr: A;
  /** The transport: `"tcp"`, `"tls"` or `"unix"`. */
  readonly transport: Transport;
  /**
   * The application protocol the TLS handshake settled on (ALPN), e.g.
   * `"h2"`; `null` without TLS or when the peers agreed on none.
   */
  readonly alpnProtocol: string | null;

  readonly #options: SocketOptions<T>;
  readonly #framing: Framing<T>;
  readonly #highWaterMark: number;
  readonly #life: Lifecycle;
  readonly #reader: Reader;
  readonly #writer: BufferedWriter;

  static {
    lifecycleOf = (socket) => socket.#life;
  }

  /**
   * Wraps a connection. Most code gets sockets from `connect`, `listen` or
   * `serve` instead.
   *
   * @param conn The connection; the socket owns it from now on.
   * @param options The default framing and the write buffer's high-water mark.
   * @param alpnProtocol The protocol a TLS handshake settled on, if any.
   */
  constructor(
    conn: Deno.Conn<A>,
    options: SocketOptions<T> = {},
    alpnProtocol: string | null = null,
  ) {
    checkFraming(options.framing, "framing", "create socket");
    const highWaterMark = checkPositive(
      options.highWaterMark ?? MiB,
      "highWaterMark",
      "create socket",
    );
    this.#options = options;
    this.alpnProtocol = alpnProtocol;
    this.localAddr = conn.localAddr;
    this.remoteAddr = conn.remoteAddr;
    this.transport = transportOf(conn);
    // Without a framing T is Uint8Array: connect, listen and serve are typed
    // so that only a socket of bytes can be made without one.
    this.#framing = options.framing ?? DEFAULT_FRAMING as Framing<T>;
    this.#highWaterMark = highWaterMark;
    this.#life = new Lifecycle(conn, highWaterMark);
    this.#reader = this.#life.reader;
    this.#writer = this.#life.writer;
    this.#reader.frameTimeout = checkDuration(
      options.frameTimeout,
      "frameTimeout",
      "create socket",
    );
    // Frames are batched by the writer; Nagle's algorithm would only add
    // delay. (A TLS connection has no setNoDelay: connect() sets it before
    // the upgrade; Deno.listenTls's connections keep Nagle on, deno#13617.)
    (conn as Partial<Deno.TcpConn>).setNoDelay?.(true);
  }

  /**
   * Milliseconds each `send*`/`recv*`/`flush` may wait before it fails with
   * `ETIMEDOUT` (like Python's `settimeout`); `undefined` waits forever. A
   * call's own `timeout` option overrides it. A receive that times out loses
   * nothing. A `send` of a buffer at or over the high-water mark (sent
   * uncopied) that times out closes the socket, since part of it may have
   * left.
   *
   * @throws {RangeError} When set to a negative number or NaN.
   */
  get timeout(): number | undefined {
    return this.#reader.timeout;
  }

  set timeout(ms: number | undefined) {
    this.#reader.timeout = checkDuration(ms, "timeout", "set timeout");
  }

  /**
   * Milliseconds with no byte received or written after which the socket
   * closes itself; `undefined` (the default) never. Bytes count when a read
   * or write to the runtime completes. While a write is in flight the socket
   * waits four times as long: the runtime reports a write only once the
   * kernel's send buffer is a third free, which takes seconds for a slow but
   * steady reader. Pending and later calls then fail with `ECLOSED`.
   *
   * @throws {RangeError} When set to a negative number or NaN.
   */
  get idleTimeout(): number | undefined {
    return this.#life.idleTimeout;
  }

  set idleTimeout(ms: number | undefined) {
    this.#life.idleTimeout = checkDuration(
      ms,
      "idleTimeout",
      "set idleTimeout",
    );
  }

  /**
   * Milliseconds a frame may take from its first byte to its last while a
   * frame receive (`recvFrame`, `frames()`, `recvUntil`, borrowed frames)
   * waits for it; `undefined` (the default): no limit. Past it the receive
   * fails with `ETIMEDOUT` and the socket is closed (a served handler then
   * ends quietly, as after `idleTimeout`): a peer that trickles a frame one
   * byte at a time, inside any idle timeout, is cut off, while one that
   * sends large frames steadily is not. The clock starts when a frame
   * receive waits and the frame's first bytes are here; it stops when the
   * receive is answered. The `frameTimeout` option of `connect`, `listen`
   * and `serve` sets it.
   *
   * @throws {RangeError} When set to a negative number or NaN.
   *
   * @example A peer that trickles a frame is cut off
   * ```ts
   * import { connect, delimited, listen, SocketError } from "@wire/socket";
   * import { assertEquals, assertRejects } from "@std/assert";
   *
   * using server = listen({ framing: delimited() });
   * await using client = await connect({ port: server.addr.port });
   * await using peer = await server.accept();
   * peer.frameTimeout = 100;
   * await client.send("no end of li"); // and never the rest of the line
   * const error = await assertRejects(() => peer.recvFrame(), SocketError);
   * assertEquals(error.code, "ETIMEDOUT");
   * ```
   */
  get frameTimeout(): number | undefined {
    return this.#reader.frameTimeout;
  }

  set frameTimeout(ms: number | undefined) {
    this.#reader.frameTimeout = ms; // checked there
  }

  /** Bytes received and not yet returned by a `recv*` call. */
  get buffered(): number {
    return this.#reader.buffer.length;
  }

  /**
   * Sends every byte of `data` (like Python's `sendall`): a `Uint8Array`, any
   * other `ArrayBufferView` or an `ArrayBuffer` (their bytes), or a string
   * (UTF-8).
   *
   * @param data The bytes; copied unless they are at least the high-water
   * mark, in which case the promise resolves once they are written.
   * @param options A timeout or signal for the wait for room.
   * @throws {TypeError} `data` is none of those (the socket stays usable).
   * @throws {SocketError} `EPIPE`/`ECONNRESET` when the peer is gone (maybe
   * on a later call), `ETIMEDOUT`, `ECANCELED`, `ECLOSED`.
   */
  send(
    data: Uint8Array | ArrayBufferView | ArrayBuffer | string,
    options?: CallOptions,
  ): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = toBytes(data, "send");
    } catch (error) {
      return Promise.reject(error);
    }
    const refused = this.#life.refuseWrite("send", options);
    if (refused) return refused;
    const accepted = this.#writer.write(bytes);
    if (accepted === RESOLVED) return accepted;
    const wait = this.#bounded(accepted, options, "send");
    if (wait === accepted || bytes.length < this.#highWaterMark) return wait;
    return wait.catch((error) => {
      // Sent uncopied, maybe in part: the stream can no longer be trusted.
      if (error instanceof SocketError && error.code !== "ECLOSED") {
        this.destroy();
      }
      throw error;
    });
  }

  /**
   * Sends one frame: `value` encoded by the socket's framing, or by
   * `framing`. Concurrent calls never interleave their bytes.
   *
   * @throws {FrameError} `FRAME_TOO_LARGE` when the value does not fit.
   * @throws {TypeError} The value is not of the framing's type.
   * @throws {SocketError} As for {@linkcode StreamSocket.send}.
   */
  sendFrame(value: T, options?: CallOptions): Promise<void>;
  /**
   * Sends one frame of `framing`.
   *
   * @typeParam U The framing's value type.
   */
  sendFrame<U>(
    value: U,
    framing: Framing<U>,
    options?: CallOptions,
  ): Promise<void>;
  sendFrame(
    value: unknown,
    framingOrOptions?: Framing<unknown> | CallOptions,
    options?: CallOptions,
  ): Promise<void> {
    // The hot path of a sending loop: no allocation, one check per case.
    let framing: Framing<unknown> = this.#framing;
    let call = framingOrOptions as CallOptions | undefined;
    if (isFraming(framingOrOptions)) {
      framing = framingOrOptions;
      call = options;
    }
    const refused = this.#life.refuseWrite("send frame", call);
    if (refused) return refused;
    const accepted = this.#writer.writeFrame(value, framing);
    return this.#bounded(accepted, call, "send frame");
  }

  /**
   * Sends many frames in one call, encoded into the write buffer in one pass:
   * the fastest way to send frames you already hold.
   *
   * @throws {FrameError} `FRAME_TOO_LARGE` for a value that does not fit; the
   * values before it are sent.
   */
  sendFrames(values: Iterable<T>, options?: CallOptions): Promise<void>;
  /**
   * Sends many frames of `framing` in one call.
   *
   * @typeParam U The framing's value type.
   */
  sendFrames<U>(
    values: Iterable<U>,
    framing: Framing<U>,
    options?: CallOptions,
  ): Promise<void>;
  sendFrames(
    values: Iterable<unknown>,
    framingOrOptions?: Framing<unknown> | CallOptions,
    options?: CallOptions,
  ): Promise<void> {
    const [framing, call] = this.#split(framingOrOptions, options);
    const refused = this.#life.refuseWrite("send frames", call);
    if (refused) return refused;
    const accepted = this.#writer.writeFrames(values, framing);
    return this.#bounded(accepted, call, "send frames");
  }

  /**
   * Sends every chunk of `stream` (e.g. a file's `readable`) through bounded
   * memory: waits whenever the write buffer is full.
   *
   * @param options A timeout (for each wait for room) or a signal.
   * @returns The number of bytes sent.
   */
  async sendStream(
    stream: ReadableStream<Uint8Array>,
    options?: CallOptions,
  ): Promise<number> {
    let total = 0;
    for await (const chunk of stream) {
      await this.send(chunk, options);
      total += chunk.length;
    }
    return total;
  }

  /**
   * Resolves when every byte sent before this call has been written to the
   * runtime.
   *
   * @throws {SocketError} The write error, `ETIMEDOUT`, `ECANCELED`, `ECLOSED`.
   */
  flush(options?: CallOptions): Promise<void> {
    const closed = this.#life.closed;
    if (closed) return Promise.reject(closed);
    if (options?.signal?.aborted) {
      return Promise.reject(canceled("flush", options.signal));
    }
    if (this.#life.writeClosed) return RESOLVED;
    return this.#bounded(this.#writer.flush(), options, "flush");
  }

  /**
   * Receives 1 to `maxBytes` bytes: whatever has arrived. Never returns an
   * empty array.
   *
   * @param maxBytes The most to return.
   * @returns The bytes, or `null` at the end of the stream.
   * @throws {SocketError} `ECONNRESET`, `ETIMEDOUT` (nothing lost: later
   * bytes come with the next call), `ECANCELED`, `ECLOSED`.
   */
  recv(
    maxBytes: number = RECV_DEFAULT,
    options?: CallOptions,
  ): Promise<Uint8Array | null> {
    try {
      checkCount(maxBytes, 1, "maxBytes", "recv");
      return this.#reader.some(maxBytes, this.#wait(options), "recv");
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Receives 1 to `target.length` bytes into `target`, like Python's
   * `recv_into`: bytes already buffered first, otherwise what the next read
   * brings. Copies nothing and allocates nothing when nothing is buffered
   * and the call has no timeout or signal (the socket's `timeout` counts):
   * the read then goes straight into `target`. Served in call order with
   * the other receives.
   *
   * @param target Where the bytes go; an empty one resolves to 0 at once.
   * @param options A timeout or signal (the bytes then pass through the
   * socket's buffer: one copy, no allocation).
   * @returns How many bytes were written at the start of `target`, or
   * `null` at the end of the stream.
   * @throws {TypeError} `target` is not a Uint8Array.
   * @throws {SocketError} As for {@linkcode StreamSocket.recv}.
   *
   * @example Reading a stream into one reused buffer
   * ```ts
   * import { listen, connect } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * await using server = listen({ port: 0 });
   * await using client = await connect({ port: server.addr.port });
   * await using peer = await server.accept();
   * await client.send("hello");
   * await client.closeWrite();
   * const target = new Uint8Array(4);
   * let total = 0;
   * for (let n; (n = await peer.recvInto(target)) !== null;) total += n;
   * assertEquals(total, 5);
   * ```
   */
  recvInto(target: Uint8Array, options?: CallOptions): Promise<number | null> {
    try {
      if (!(target instanceof Uint8Array)) {
        throw new TypeError(
          `Cannot recvInto: the target must be a Uint8Array, got ${
            target === null ? "null" : typeof target
          }`,
        );
      }
      return this.#reader.into(target, this.#wait(options), "recvInto");
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Receives exactly `n` bytes.
   *
   * @throws {SocketError} `EOF` when the stream ends first (the bytes that did
   * arrive stay buffered), or as for {@linkcode StreamSocket.recv}.
   */
  recvExactly(n: number, options?: CallOptions): Promise<Uint8Array> {
    try {
      checkCount(n, 0, "n", "recvExactly");
      return this.#reader.exactly(n, this.#wait(options), "recvExactly");
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Receives the bytes before the next `delimiter`, which is consumed.
   *
   * @param options `maxBytes`: the longest result accepted (default 1 MiB);
   * a timeout or signal.
   * @returns The bytes, or `null` at the end of the stream with nothing buffered.
   * @throws {SocketError} `EOF` when the stream ends mid-way.
   * @throws {FrameError} `FRAME_TOO_LARGE` past `maxBytes`.
   */
  recvUntil(
    delimiter: string | Uint8Array,
    options: CallOptions & { maxBytes?: number } = {},
  ): Promise<Uint8Array | null> {
    try {
      const framing = delimited({
        delimiter,
        maxFrameBytes: options.maxBytes ?? UNTIL_DEFAULT,
      });
      return this.#reader.frame(
        framing,
        this.#wait(options),
        "recvUntil",
        (left) =>
          new SocketError(
            "EOF",
            `Cannot receive until the delimiter: the stream ended after ${left} bytes`,
          ),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Receives one frame with the socket's framing.
   *
   * @returns The value, or `null` at a clean end of stream between frames.
   * @throws {FrameError} `INCOMPLETE_FRAME` when the stream ends inside a
   * frame; any error of the framing (the stream position is then lost).
   * @throws {SocketError} As for {@linkcode StreamSocket.recv}.
   */
  recvFrame(options?: CallOptions): Promise<T | null>;
  /**
   * Receives one frame with `framing`.
   *
   * @typeParam U The framing's value type.
   */
  recvFrame<U>(framing: Framing<U>, options?: CallOptions): Promise<U | null>;
  recvFrame(
    framingOrOptions?: Framing<unknown> | CallOptions,
    options?: CallOptions,
  ): Promise<unknown> {
    return this.#receiveFramed("recvFrame", framingOrOptions, options);
  }

  /**
   * Receives one frame that is valid only until the next receive call on
   * this socket: a view into the socket's own read buffer, which that call
   * may overwrite (Go's `bufio.Scanner.Bytes()`). Copy it (`slice()`) or
   * finish with it before receiving again; a value kept longer silently
   * changes under you. In exchange the socket reuses its memory instead of
   * reading into fresh memory, which shows at gigabytes a second.
   *
   * @returns The value, or `null` at a clean end of stream between frames.
   * @throws {FrameError} As for {@linkcode StreamSocket.recvFrame}.
   * @throws {SocketError} As for {@linkcode StreamSocket.recv}.
   *
   * @example Checksumming frames without keeping them
   * ```ts
   * import { connect, listen } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * await using server = listen({ port: 0 });
   * await using client = await connect({ port: server.addr.port });
   * await using peer = await server.accept();
   * await client.sendFrames([new Uint8Array([1, 2]), new Uint8Array([3])]);
   * await client.closeWrite();
   * let sum = 0;
   * for (let frame; (frame = await peer.recvFrameBorrowed()) !== null;) {
   *   for (const byte of frame) sum += byte; // used before the next receive
   * }
   * assertEquals(sum, 6);
   * ```
   */
  recvFrameBorrowed(options?: CallOptions): Promise<T | null>;
  /**
   * Receives one borrowed frame of `framing`, valid until the next receive call.
   *
   * @typeParam U The framing's value type.
   */
  recvFrameBorrowed<U>(
    framing: Framing<U>,
    options?: CallOptions,
  ): Promise<U | null>;
  recvFrameBorrowed(
    framingOrOptions?: Framing<unknown> | CallOptions,
    options?: CallOptions,
  ): Promise<unknown> {
    try {
      const [framing, call] = this.#split(framingOrOptions, options);
      return this.#reader.frame(
        framing,
        this.#wait(call),
        "recvFrameBorrowed",
        undefined,
        false,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Receives every frame already buffered, at least one (waiting for it):
   * the receiving twin of {@linkcode StreamSocket.sendFrames}, one await per
   * batch instead of one per frame.
   *
   * @returns The values in order, or `null` at a clean end of stream.
   * @throws {FrameError} As for {@linkcode StreamSocket.recvFrame}; a malformed
   * frame after good ones is thrown by the next call, the good ones returned.
   */
  recvFrames(options?: CallOptions): Promise<T[] | null>;
  /**
   * Receives every buffered frame of `framing`, at least one.
   *
   * @typeParam U The framing's value type.
   */
  recvFrames<U>(
    framing: Framing<U>,
    options?: CallOptions,
  ): Promise<U[] | null>;
  recvFrames(
    framingOrOptions?: Framing<unknown> | CallOptions,
    options?: CallOptions,
  ): Promise<unknown> {
    return this.#receiveFramed("recvFrames", framingOrOptions, options);
  }

  /**
   * The frames received, until a clean end of stream. Each step is a receive
   * call like `recvFrame`. Breaking out of the loop does not close the socket.
   */
  frames(): AsyncIterableIterator<T>;
  /**
   * The frames of `framing` received, until a clean end of stream.
   *
   * @typeParam U The framing's value type.
   */
  frames<U>(framing: Framing<U>): AsyncIterableIterator<U>;
  frames(framing?: Framing<unknown>): AsyncIterableIterator<unknown> {
    return this.#reader.frames(framing ?? this.#framing, "receive frames");
  }

  /**
   * The frames received, each valid only until the loop's next step (or any
   * other receive call on this socket): views into the socket's own read
   * buffer, as {@linkcode StreamSocket.recvFrameBorrowed} returns. Copy a
   * frame you keep (`frame.slice()`). Ends at a clean end of stream;
   * breaking out of the loop does not close the socket.
   *
   * @example Counting bytes of a bulk stream
   * ```ts
   * import { connect, listen } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * await using server = listen({ port: 0 });
   * await using client = await connect({ port: server.addr.port });
   * await using peer = await server.accept();
   * await client.sendFrames([new Uint8Array(10), new Uint8Array(20)]);
   * await client.closeWrite();
   * let bytes = 0;
   * for await (const frame of peer.framesBorrowed()) bytes += frame.length;
   * assertEquals(bytes, 30);
   * ```
   */
  framesBorrowed(): AsyncIterableIterator<T>;
  /**
   * The frames of `framing` received, each valid until the loop's next step.
   *
   * @typeParam U The framing's value type.
   */
  framesBorrowed<U>(framing: Framing<U>): AsyncIterableIterator<U>;
  framesBorrowed(framing?: Framing<unknown>): AsyncIterableIterator<unknown> {
    return this.#reader.frames(
      framing ?? this.#framing,
      "receive frames",
      false,
    );
  }

  /**
   * The next `size` bytes of the stream as a `ReadableStream`, for bodies too
   * large to hold in memory (pipe it into a file's `writable`). Read it to
   * the end before receiving anything else.
   *
   * @throws {SocketError} Through the stream: `EOF` when the peer's stream
   * ends before `size` bytes.
   */
  recvStream(size: number): ReadableStream<Uint8Array> {
    checkCount(size, 0, "size", "recvStream");
    return this.#reader.stream(size, "recvStream");
  }

  /**
   * Half-close: flushes, then sends FIN. The peer reads end of stream; this
   * side can still receive. Later sends fail with `EPIPE`.
   */
  async closeWrite(options?: CallOptions): Promise<void> {
    const life = this.#life;
    if (life.closed) throw life.closed;
    if (life.writeClosed) return;
    await this.flush(options);
    life.writeClosed = true;
    try {
      await life.conn.closeWrite();
    } catch (error) {
      throw toSocketError(error, "close the write side");
    }
  }

  /**
   * STARTTLS, client side: upgrades this TCP connection to TLS in place,
   * after a plaintext exchange (SMTP's `STARTTLS`, a line protocol's "OK"),
   * and resolves to the TLS socket, with the same framing and `timeout`.
   * This socket fails every call with `ECLOSED` afterwards. What was sent
   * before is flushed first, in plaintext; the certificate is verified as
   * by `connect({ tls })`.
   *
   * Bytes the peer sent that are buffered unread when it is called came in
   * plaintext and could have been injected (the STARTTLS command-injection
   * bug, CVE-2011-0411: see the README): the call rejects with `EPROTO` and
   * closes the socket. Plaintext arriving after the call fails the
   * handshake (`ETLS`). No such byte is ever returned by a read.
   *
   * Requires `allow-net` permission.
   *
   * @param options The name to verify (`serverName`), roots, ALPN, and a
   * timeout or signal for the handshake.
   * @returns The TLS socket.
   * @throws {SocketError} `EBUSY` while a receive still waits for bytes (after
   * a timed-out or aborted call; the socket is unchanged, try again once it
   * has returned); `EPROTO` (unread plaintext, see above; the socket is
   * closed); `ECERT` (the certificate is rejected), `ETLS`, `ETIMEDOUT`,
   * `ECANCELED`, `ECONNRESET` (the socket is closed); `ECLOSED`.
   * @throws {TypeError} The socket is not a plain TCP one, or an option has
   * the wrong type (`caCerts` must hold PEM text, not file paths).
   *
   * @example Upgrading after the server's go-ahead
   * ```ts ignore
   * import { connect, crlfLines } from "@wire/socket";
   *
   * const lines = crlfLines(); // SMTP: written "\r\n", read "\r\n" or "\n"
   * const plain = await connect({ hostname: "mail.example.com", port: 587, framing: lines });
   * await plain.recvFrame(); // 220 greeting
   * await plain.sendFrame(new TextEncoder().encode("STARTTLS"));
   * await plain.recvFrame(); // 220 go ahead
   * await using secure = await plain.startTls({ serverName: "mail.example.com" });
   * ```
   * @tags allow-net
   */
  async startTls(options: StartTlsOptions = {}): Promise<StreamSocket<T>> {
    checkOptions(options, "start TLS");
    checkTlsClient(options, "", "start TLS");
    if (options.hostname !== undefined) {
      checkText(options.hostname, "hostname", "start TLS");
    }
    checkDuration(options.timeout, "timeout", "start TLS");
    checkSignal(options.signal, "start TLS");
    const life = this.#life;
    if (life.closed) throw life.closed;
    if (this.transport !== "tcp") {
      throw new TypeError(
        `Cannot start TLS: the socket is already ${this.transport}, not plain TCP`,
      );
    }
    const peer = (this.remoteAddr as Deno.Addr as Deno.NetAddr).hostname;
    const { conn, alpnProtocol } = await upgradeInPlace(
      life,
      () => this.flush(),
      peer,
      options,
    );
    const socket = new StreamSocket<T>(
      conn as Deno.Conn<Deno.NetAddr>,
      this.#options,
      alpnProtocol,
    );
    socket.timeout = this.timeout;
    return socket;
  }

  /**
   * Closes the socket. Pending calls (a receive, a send waiting for room, a
   * flush) fail at once with `ECLOSED`, and so do later ones. Bytes already
   * accepted are still written, in the background, for at most 10 s (the
   * close linger): then the rest is dropped and the connection released,
   * whatever the peer does. A send of uncopied bytes (at or over the
   * high-water mark) settles when they are written or at that deadline.
   * `await using` (or `await socket[Symbol.asyncDispose]()`) waits for that.
   * Safe to call again.
   */
  close(): void {
    this.#life.close();
  }

  /**
   * Closes the socket at once, dropping bytes not yet written, including
   * those a `close()` is still flushing. Safe to call again.
   */
  destroy(): void {
    this.#life.destroy(closedError("use socket"));
  }

  /**
   * Sets `TCP_NODELAY` (on by default here: the writer batches instead).
   * No effect over TLS or a Unix socket: Deno offers no way to set it on a
   * TLS connection (deno#13617); a Unix socket has no Nagle's algorithm.
   */
  setNoDelay(noDelay = true): void {
    (this.#life.conn as Partial<Deno.TcpConn>).setNoDelay?.(noDelay);
  }

  /** Enables or disables TCP keep-alive probes. */
  setKeepAlive(keepAlive = true): void {
    (this.#life.conn as Partial<Deno.TcpConn>).setKeepAlive?.(keepAlive);
  }

  /**
   * Closes, and resolves once the bytes accepted are written or the close
   * linger (10 s) has run out, whatever the peer does: what `await using`
   * does.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.#life.released;
  }

  /** The framing and call options of a `(framing?, options?)` call. */
  #split(
    framingOrOptions: Framing<unknown> | CallOptions | undefined,
    options: CallOptions | undefined,
  ): [Framing<unknown>, CallOptions | undefined] {
    return isFraming(framingOrOptions)
      ? [framingOrOptions, options]
      : [this.#framing, framingOrOptions];
  }

  /** `recvFrame` or `recvFrames` with the framing and options of a `(framing?, options?)` call. */
  #receiveFramed(
    method: "recvFrame" | "recvFrames",
    framingOrOptions: Framing<unknown> | CallOptions | undefined,
    options: CallOptions | undefined,
  ): Promise<unknown> {
    try {
      const [framing, call] = this.#split(framingOrOptions, options);
      const wait = this.#wait(call);
      return method === "recvFrame"
        ? this.#reader.frame(framing, wait, method)
        : this.#reader.someFrames(framing, wait, method);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A receive's wait options, checked. */
  #wait(options: CallOptions | undefined): CallOptions {
    if (options === undefined) return NO_WAIT;
    checkDuration(options.timeout, "timeout", "receive");
    if (options.signal?.aborted) throw canceled("receive", options.signal);
    return options;
  }

  /** `accepted`, bounded by the call's (or the socket's) timeout and signal. */
  #bounded(
    accepted: Promise<void>,
    options: CallOptions | undefined,
    action: string,
  ): Promise<void> {
    if (accepted === RESOLVED) return accepted;
    const timeout = options?.timeout ?? this.timeout;
    const signal = options?.signal;
    if (timeout === undefined && signal === undefined) return accepted;
    try {
      checkDuration(options?.timeout, "timeout", action);
    } catch (error) {
      return Promise.reject(error);
    }
    return withDeadline(accepted, { timeout, signal }, action);
  }
}

const NO_WAIT: CallOptions = {};
