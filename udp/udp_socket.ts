// UdpSocket: sendTo/recvFrom over one pending runtime receive, receives in
// call order through the wait queue, the connected-mode filter.

import { SocketError } from "../errors.ts";
import { canonicalIp } from "./address.ts";
import {
  canceled,
  closedError,
  closeQuietly,
  toSocketError,
} from "../io/runtime_errors.ts";
import { type CallOptions, WaitQueue } from "../io/wait_queue.ts";
import { untilClosed } from "../io/iterate.ts";
import {
  checkCount,
  checkDuration,
  checkHostname,
  checkPort,
  checkSignal,
  toBytes,
} from "../io/validate.ts";
import { join, type MulticastMembership } from "./multicast.ts";
import type { Datagram, UdpAddress } from "./datagram.ts";
import {
  OwedCopies,
  request,
  type UdpRequestOptions,
  type Verdict,
} from "./request.ts";

export type { Datagram, UdpAddress } from "./datagram.ts";

/**
 * The largest UDP payload over IPv4, in bytes: 65535 minus the 20-byte IP
 * header and the 8-byte UDP header. {@linkcode UdpSocket.sendTo} refuses
 * more with `SocketError("EMSGSIZE")` before anything is sent.
 *
 * @example Refusing an oversized datagram
 * ```ts
 * import { bindUdp, MAX_DATAGRAM_BYTES, SocketError } from "@wire/socket";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * using socket = bindUdp();
 * const tooBig = new Uint8Array(MAX_DATAGRAM_BYTES + 1);
 * const error = await assertRejects(
 *   () => socket.sendTo(tooBig, socket.addr),
 *   SocketError,
 * );
 * assertEquals(error.code, "EMSGSIZE");
 * ```
 */
export const MAX_DATAGRAM_BYTES = 65507;

/** The default `maxBytes` of a receive: no datagram is longer. */
const DEFAULT_MAX_BYTES = 65535;
/** One byte more than any datagram, so a longer one shows as `n > maxBytes`. */
const RECEIVE_BUFFER_BYTES = 65536;

const RECEIVE = "receive datagram";
const SEND = "send datagram";

/**
 * Options for {@linkcode UdpSocket.recvFrom} and {@linkcode UdpSocket.recv}.
 *
 * @example Cancelling a receive
 * ```ts
 * import { bindUdp, SocketError } from "@wire/socket";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * using socket = bindUdp();
 * const controller = new AbortController();
 * const pending = socket.recvFrom({ signal: controller.signal });
 * controller.abort(new Error("user pressed Ctrl-C"));
 * const error = await assertRejects(() => pending, SocketError);
 * assertEquals(error.code, "ECANCELED");
 * assertEquals((error.cause as Error).message, "user pressed Ctrl-C");
 * ```
 */
export interface RecvFromOptions extends CallOptions {
  /**
   * The most bytes to return. A longer datagram returns its first `maxBytes`
   * bytes with `truncated: true`; the rest is gone (UDP cannot resend it).
   * `signal` and `timeout` (which overrides {@linkcode UdpSocket.timeout})
   * lose nothing either: a datagram arriving later is returned by the next
   * receive.
   * @default {65535}
   */
  maxBytes?: number;
}

/** A datagram received while nobody was waiting: its whole payload. */
interface Received {
  data: Uint8Array<ArrayBuffer>;
  addr: Deno.NetAddr;
}

/** What a waiting receive takes: its size, and for a request, which datagrams. */
interface Want {
  maxBytes: number;
  sort?: (datagram: Datagram) => Verdict;
}

/**
 * Datagrams kept for later receives (received while nobody waited, or left
 * by a request they did not answer); the oldest go first past this.
 */
const READY_LIMIT = 64;

interface Peer {
  hostname: string;
  port: number;
  /** `hostname` as the runtime spells sender addresses. */
  canonical: string;
}

function checkMaxBytes(maxBytes: unknown): number {
  // No datagram is longer than 65535 bytes, and the buffer holds 65536.
  return Math.min(
    checkCount(maxBytes, 0, "maxBytes", RECEIVE),
    DEFAULT_MAX_BYTES,
  );
}

function toDatagram(received: Received, maxBytes: number): Datagram {
  const data = received.data;
  return data.length > maxBytes
    ? { data: data.slice(0, maxBytes), addr: received.addr, truncated: true }
    : { data, addr: received.addr, truncated: false };
}

/**
 * A bound UDP socket; create one with {@linkcode bindUdp}.
 *
 * Receives go through one reusable 64 KiB buffer and at most one pending
 * receive in the runtime: a `recvFrom` that times out or is aborted leaves
 * that receive in place for the next caller, so no datagram is lost to a
 * timeout. Concurrent `recvFrom` calls (and iterators) are served in the
 * order they were made, one datagram each.
 *
 * Iterating with `for await` yields every datagram until the socket is
 * closed, which ends the loop cleanly. Breaking out of the loop does not
 * close the socket; `using` does.
 *
 * Deno always enables `SO_BROADCAST` on UDP sockets: sending to a broadcast
 * address (`255.255.255.255`) needs no opt-in, unlike Python's
 * `setsockopt(SOL_SOCKET, SO_BROADCAST, 1)`.
 *
 * Needs `--allow-net` and `--unstable-net`.
 *
 * @example Receiving with a timeout
 * ```ts
 * import { bindUdp, SocketError } from "@wire/socket";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * using socket = bindUdp();
 * socket.timeout = 20; // ms, like Python's settimeout(0.02)
 * const error = await assertRejects(() => socket.recvFrom(), SocketError);
 * assertEquals(error.code, "ETIMEDOUT");
 * ```
 *
 * @example Serving datagrams until the socket closes
 * ```ts
 * import { bindUdp } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const server = bindUdp();
 * using client = bindUdp();
 * await client.sendTo("a", server.addr);
 * await client.sendTo("b", server.addr);
 * const seen: string[] = [];
 * for await (const { data } of server) {
 *   seen.push(new TextDecoder().decode(data));
 *   if (seen.length === 2) server.close(); // ends the loop
 * }
 * assertEquals(seen, ["a", "b"]);
 * ```
 *
 * @tags allow-net
 */
export class UdpSocket implements AsyncIterable<Datagram>, Disposable {
  readonly #conn: Deno.DatagramConn;
  readonly #addr: Deno.NetAddr;
  readonly #buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  #timeout: number | undefined;
  #closed = false;
  /** Whether a `receive` into `#buffer` is pending in the runtime. */
  #receiving = false;
  /** Callers waiting for a datagram (how many bytes each takes), in call order. */
  readonly #waiters = new WaitQueue<Want, Datagram>(() => this.#serveReady());
  /**
   * Datagrams kept for later receives: from a receive whose caller timed out
   * or was aborted, or left by a request they did not answer (at most
   * READY_LIMIT).
   */
  #ready: Received[] = [];
  readonly #owed = new OwedCopies();
  /** A receive error nobody was waiting for; thrown by the next receive. */
  #error: SocketError | undefined;
  #peer: Peer | undefined;

  /**
   * Wraps a UDP `Deno.DatagramConn`. Usually you call {@linkcode bindUdp}
   * instead; this is for a conn made with options it does not offer. The
   * socket owns the conn from now on: do not receive from it directly.
   *
   * @param conn A conn from `Deno.listenDatagram({ transport: "udp" })`.
   * @throws {TypeError} `conn` is not a UDP conn.
   */
  constructor(conn: Deno.DatagramConn) {
    const addr = conn?.addr;
    if (addr?.transport !== "udp") {
      throw new TypeError(
        `Cannot create UdpSocket: expected a UDP Deno.DatagramConn, got transport ${
          String(addr?.transport)
        }`,
      );
    }
    this.#conn = conn;
    this.#addr = addr;
  }

  /** The local address (Python's `getsockname()`); read the port the OS picked here. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /**
   * Milliseconds each receive waits before it rejects with
   * `SocketError("ETIMEDOUT")`; `undefined` waits forever (Python's
   * `settimeout`). It applies to `recvFrom`, `recv` and each step of a
   * `for await` loop. A timeout loses nothing: a datagram that arrives later
   * is returned by the next receive. (The runtime's receive stays pending
   * until then, which keeps the process alive: close the socket when done.)
   *
   * @default {undefined}
   * @throws {RangeError} Set to a negative number or NaN.
   */
  get timeout(): number | undefined {
    return this.#timeout;
  }

  set timeout(ms: number | undefined) {
    this.#timeout = checkDuration(ms, "timeout", "set timeout");
  }

  /** The peer set by {@linkcode UdpSocket.connect} (Python's `getpeername()`), or `undefined`. */
  get remoteAddr(): Deno.NetAddr | undefined {
    const peer = this.#peer;
    return peer &&
      { transport: "udp", hostname: peer.hostname, port: peer.port };
  }

  /** Whether {@linkcode UdpSocket.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one datagram (Python's `sendto`). A string is sent as UTF-8.
   * Resolves once the OS has taken the datagram; that is no promise that it
   * arrives.
   *
   * Needs `--allow-net` for the destination and `--unstable-net`.
   *
   * @param data The payload, at most {@linkcode MAX_DATAGRAM_BYTES} (65507)
   * bytes; may be empty.
   * @param to The destination, e.g. a received {@linkcode Datagram.addr}.
   * @returns The number of bytes sent: the whole datagram.
   * @throws {SocketError} `EMSGSIZE` for a payload over 65507 bytes (nothing
   * is sent); `ECLOSED` after `close()`; `EPERM` without `--allow-net` for the
   * destination; `ENOTFOUND` for a name that does not resolve; others with
   * the runtime's error as `cause`.
   * @throws {RangeError} `to.port` is not an integer from 1 to 65535.
   * @throws {TypeError} `data` is not a string or `Uint8Array`, or
   * `to.hostname` is not a non-empty string.
   *
   * @example Sending text and bytes
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using a = bindUdp();
   * using b = bindUdp();
   * assertEquals(await a.sendTo("héllo", b.addr), 6); // UTF-8 bytes
   * assertEquals(await a.sendTo(new Uint8Array([1, 2]), b.addr), 2);
   * assertEquals((await b.recvFrom()).data.length, 6);
   * ```
   */
  async sendTo(
    data: Uint8Array | ArrayBufferView | ArrayBuffer | string,
    to: UdpAddress,
  ): Promise<number> {
    const bytes = toBytes(data, SEND);
    const hostname = checkHostname(to?.hostname, SEND);
    const port = checkPort(to?.port, 1, SEND);
    if (this.#closed) throw closedError(SEND);
    if (bytes.length > MAX_DATAGRAM_BYTES) {
      throw new SocketError(
        "EMSGSIZE",
        `Cannot ${SEND}: ${bytes.length} bytes, limit is ${MAX_DATAGRAM_BYTES}`,
      );
    }
    try {
      return await this.#conn.send(bytes, { transport: "udp", hostname, port });
    } catch (error) {
      if (this.#closed) {
        throw new SocketError(
          "ECLOSED",
          `Cannot ${SEND}: the socket is closed`,
          {
            cause: error,
          },
        );
      }
      throw toSocketError(error, `${SEND} to ${hostname}:${port}`);
    }
  }

  /**
   * Receives one datagram (Python's `recvfrom`). In connected mode (see
   * {@linkcode UdpSocket.connect}) datagrams from other senders are
   * discarded.
   *
   * Needs `--allow-net` and `--unstable-net`.
   *
   * @param options `maxBytes` (default 65535), `signal` and `timeout`.
   * @returns The datagram, its sender, and whether it was cut to `maxBytes`.
   * @throws {SocketError} `ETIMEDOUT` when the timeout expires; `ECANCELED`
   * when `signal` aborts (its reason is `cause`); `ECLOSED` when the socket
   * is or becomes closed; others with the runtime's error as `cause`.
   * @throws {RangeError} `maxBytes` is not a non-negative integer, or
   * `timeout` is negative.
   *
   * @example Noticing truncation
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using a = bindUdp();
   * using b = bindUdp();
   * await a.sendTo("abcdef", b.addr);
   * const { data, truncated } = await b.recvFrom({ maxBytes: 3 });
   * assertEquals(new TextDecoder().decode(data), "abc");
   * assertEquals(truncated, true); // "def" is gone
   * ```
   */
  recvFrom(options?: RecvFromOptions): Promise<Datagram> {
    let maxBytes = DEFAULT_MAX_BYTES;
    let timeout = this.#timeout;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      try {
        if (options.maxBytes !== undefined) {
          maxBytes = checkMaxBytes(options.maxBytes);
        }
        if (options.timeout !== undefined) {
          timeout = checkDuration(options.timeout, "timeout", RECEIVE);
        }
      } catch (error) {
        return Promise.reject(error);
      }
      signal = options.signal;
      try {
        checkSignal(signal, RECEIVE);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.#closed) return Promise.reject(closedError(RECEIVE));
    if (signal?.aborted) return Promise.reject(canceled(RECEIVE, signal));
    return this.#receive({ maxBytes }, { timeout, signal });
  }

  /**
   * Waits in call order for a datagram `want` takes: from those kept, else
   * from the network.
   */
  #receive(want: Want, call: CallOptions): Promise<Datagram> {
    if (this.#waiters.length === 0) {
      const ready = this.#takeReady(want);
      if (ready !== undefined) return Promise.resolve(ready);
    }
    const error = this.#error;
    if (error !== undefined) {
      this.#error = undefined;
      return Promise.reject(error);
    }
    const waiting = this.#waiters.wait(want, call, RECEIVE);
    this.#pump();
    return waiting;
  }

  /**
   * Sets the default destination and filters what is received, like
   * Python's `connect()` on a UDP socket: {@linkcode UdpSocket.send} goes to
   * `peer`, and every receive (`recv`, `recvFrom`, `for await`) discards
   * datagrams from anyone else, including ones already waiting. Nothing is
   * sent; UDP has no connection. Call it again to change the peer, or
   * {@linkcode UdpSocket.disconnect} to undo it.
   *
   * @param peer An IP address (or `"localhost"`) and a port. Resolve other
   * names first (e.g. with `Deno.resolveDns`): senders are matched by
   * address.
   * @throws {TypeError} `peer.hostname` is not an IP address or `"localhost"`.
   * @throws {RangeError} `peer.port` is not an integer from 1 to 65535.
   * @throws {SocketError} `ECLOSED` after `close()`.
   *
   * @example A client that only hears its server
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using server = bindUdp();
   * using stranger = bindUdp();
   * using client = bindUdp();
   * client.connect(server.addr);
   * await client.send("hi");
   * const { addr } = await server.recvFrom();
   * await stranger.sendTo("spam", client.addr); // discarded by the client
   * await server.sendTo("hello", addr);
   * assertEquals(new TextDecoder().decode(await client.recv()), "hello");
   * ```
   */
  connect(peer: UdpAddress): void {
    const action = "connect UDP socket";
    const hostname = checkHostname(peer?.hostname, action);
    const port = checkPort(peer?.port, 1, action);
    if (this.#closed) throw closedError(action);
    const canonical = this.#canonical(hostname, action);
    this.#peer = { hostname, port, canonical };
  }

  /** `hostname` as the runtime spells sender addresses; a TypeError for a name. */
  #canonical(hostname: string, action: string): string {
    const canonical = hostname === "localhost"
      ? (this.#addr.hostname.includes(":") ? "::1" : "127.0.0.1")
      : canonicalIp(hostname);
    if (canonical === undefined) {
      throw new TypeError(
        `Cannot ${action}: "${hostname}" is not an IP address; resolve it first (e.g. Deno.resolveDns) and pass the address`,
      );
    }
    return canonical;
  }

  /** Undoes {@linkcode UdpSocket.connect}: datagrams from anyone are received again. */
  disconnect(): void {
    this.#peer = undefined;
  }

  /**
   * Sends one datagram to the peer set by {@linkcode UdpSocket.connect}
   * (Python's `send` on a connected UDP socket).
   *
   * @param data The payload, at most 65507 bytes; a string is sent as UTF-8.
   * @returns The number of bytes sent.
   * @throws {SocketError} `EDESTADDRREQ` when the socket is not connected;
   * otherwise as {@linkcode UdpSocket.sendTo}.
   *
   * @example Sending to the connected peer
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using a = bindUdp();
   * using b = bindUdp();
   * a.connect(b.addr);
   * assertEquals(await a.send("x"), 1);
   * assertEquals((await b.recvFrom()).addr.port, a.addr.port);
   * ```
   */
  send(
    data: Uint8Array | ArrayBufferView | ArrayBuffer | string,
  ): Promise<number> {
    const peer = this.#peer;
    if (peer === undefined) {
      return Promise.reject(
        new SocketError(
          "EDESTADDRREQ",
          `Cannot ${SEND}: the socket is not connected; call connect(peer) first or use sendTo`,
        ),
      );
    }
    return this.sendTo(data, peer);
  }

  /**
   * Receives the payload of one datagram (Python's `recv`). In connected
   * mode only the peer's datagrams are returned. Use
   * {@linkcode UdpSocket.recvFrom} to learn the sender or whether a datagram
   * was cut to `maxBytes`.
   *
   * @param options As for {@linkcode UdpSocket.recvFrom}.
   * @returns The payload.
   * @throws {SocketError} As {@linkcode UdpSocket.recvFrom}.
   * @throws {RangeError} As {@linkcode UdpSocket.recvFrom}.
   *
   * @example Receiving only the payload
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using a = bindUdp();
   * using b = bindUdp();
   * b.connect(a.addr);
   * await a.sendTo("only from a", b.addr);
   * assertEquals(new TextDecoder().decode(await b.recv()), "only from a");
   * ```
   */
  recv(options?: RecvFromOptions): Promise<Uint8Array<ArrayBuffer>> {
    return this.recvFrom(options).then((datagram) => datagram.data);
  }

  /**
   * Sends `data` to `to` and returns the reply: the client loop of a UDP
   * protocol. Each try sends the datagram and waits for the reply; a try
   * that gets none in time sends again and waits `backoff` times longer
   * (1000, 2000, 4000 ms by default), and after the last try the request
   * fails with `ETIMEDOUT`.
   *
   * Only a datagram from `to` can be the reply: others stay for the socket's
   * other receives. Pass `match` to say which datagram from `to` answers this
   * request (an id, a sequence number): a late reply to an earlier request,
   * or a duplicate, is then never taken for this one's. Without `match`, a
   * copy of an earlier request's answer is recognised only while that
   * request's other tries may still be answered (see
   * {@linkcode UdpRequestOptions.match}).
   *
   * Receives are served in call order: a request waits behind earlier
   * `recvFrom` calls and requests, and later ones wait behind it.
   *
   * Needs `--allow-net` for `to` and `--unstable-net`.
   *
   * @param data The request, at most 65507 bytes; a string is sent as UTF-8.
   * @param to The server's IP address (or `"localhost"`) and port.
   * @param options `timeout` (first try, ms), `tries`, `backoff`,
   * `maxBytes`, `signal` and `match`.
   * @returns The reply, with its sender and whether it was cut to `maxBytes`.
   * @throws {SocketError} `ETIMEDOUT` after the last try; `ECANCELED` when
   * `signal` aborts (its reason is `cause`); `ECLOSED` when the socket is or
   * becomes closed; as {@linkcode UdpSocket.sendTo} for the sends.
   * @throws {TypeError} `to.hostname` is a name other than `"localhost"`
   * (replies are matched by address: resolve it first), or an option has the
   * wrong type.
   * @throws {RangeError} An option is out of range (`tries` from 1 to 100,
   * `backoff` at least 1, a positive `timeout`).
   *
   * @example A request that survives a lost datagram
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using server = bindUdp();
   * using client = bindUdp();
   * const serving = (async () => {
   *   await server.recvFrom(); // the first try is "lost": no reply
   *   const { data, addr } = await server.recvFrom();
   *   await server.sendTo(`re: ${new TextDecoder().decode(data)}`, addr);
   * })();
   * const reply = await client.request("time?", server.addr, { timeout: 100 });
   * assertEquals(new TextDecoder().decode(reply.data), "re: time?");
   * await serving;
   * ```
   *
   * @example Telling replies apart by an id
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using server = bindUdp();
   * using client = bindUdp();
   * const serving = (async () => {
   *   const { data, addr } = await server.recvFrom();
   *   await server.sendTo("7:stale answer", addr); // a late reply to request 7
   *   await server.sendTo(data, addr);
   * })();
   * const reply = await client.request("8:ping", server.addr, {
   *   match: (reply, request) => reply.data[0] === request[0], // same id
   * });
   * assertEquals(new TextDecoder().decode(reply.data), "8:ping");
   * await serving;
   * ```
   */
  request(
    data: Uint8Array | ArrayBufferView | ArrayBuffer | string,
    to: UdpAddress,
    options?: UdpRequestOptions,
  ): Promise<Datagram> {
    try {
      const bytes = toBytes(data, "send request");
      if (this.#closed) throw closedError("send request");
      return request(
        {
          send: (bytes, to) => this.sendTo(bytes, to),
          receive: (maxBytes, call, sort) =>
            this.#closed
              ? Promise.reject(closedError(RECEIVE))
              : this.#receive({ maxBytes, sort }, call),
          canonical: (hostname, action) => this.#canonical(hostname, action),
          owed: this.#owed,
        },
        bytes,
        to,
        options,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Joins a multicast group, so datagrams sent to it reach this socket.
   * Receiving them needs a socket bound to the group's port on an address
   * that accepts them (`"0.0.0.0"`, or the group itself), and
   * `--allow-net` for that address.
   *
   * @param group An IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) group address.
   * @param networkInterface For IPv4, the address of the interface to join
   * on (default `"0.0.0.0"`: the OS chooses); for IPv6, the interface index
   * (default 0).
   * @returns The membership: call `leave()` to leave the group.
   * @throws {TypeError} `group` is not a multicast address, or
   * `networkInterface` is not an IPv4 address (IPv4 group) or an interface
   * index (IPv6 group).
   * @throws {SocketError} `ECLOSED` after `close()`; the runtime's refusal
   * otherwise (e.g. `EADDRNOTAVAIL` for an unknown interface), with its error
   * as `cause`.
   *
   * @example Joining and leaving a group
   * ```ts
   * import { bindUdp } from "@wire/socket";
   * import { assertEquals } from "@std/assert";
   *
   * using socket = bindUdp();
   * const membership = await socket.joinMulticast("239.255.0.1", "127.0.0.1");
   * assertEquals(membership.group, "239.255.0.1");
   * await membership.setTTL(1);
   * await membership.leave();
   * ```
   */
  joinMulticast(
    group: string,
    networkInterface?: string | number,
  ): Promise<MulticastMembership> {
    return join(this.#conn, group, networkInterface, () => this.#closed);
  }

  /**
   * Closes the socket. Pending receives reject with `SocketError("ECLOSED")`
   * and `for await` loops end; datagrams not yet received are dropped.
   * Calling it again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = [];
    this.#error = undefined;
    closeQuietly(this.#conn);
    this.#waiters.close(closedError(RECEIVE));
  }

  /** Closes the socket at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Yields every datagram (as {@linkcode UdpSocket.recvFrom} with its
   * defaults) until the socket is closed, which ends the loop. The socket's
   * `timeout` applies to each step. Breaking out does not close the socket.
   *
   * @returns An iterator over received datagrams.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Datagram> {
    return untilClosed(() => this.recvFrom(), () => this.#closed);
  }

  /**
   * The oldest kept datagram from an acceptable sender that `want` takes, if
   * any; those from other senders (connected mode) and those it drops are
   * discarded on the way.
   */
  #takeReady(want: Want): Datagram | undefined {
    const ready = this.#ready;
    for (let i = 0; i < ready.length;) {
      const received = ready[i];
      if (!this.#accepts(received.addr)) {
        ready.splice(i, 1);
        continue;
      }
      const datagram = toDatagram(received, want.maxBytes);
      const verdict = want.sort?.(datagram) ?? "take";
      if (verdict === "keep") {
        i++;
        continue;
      }
      ready.splice(i, 1);
      if (verdict === "take") return datagram;
    }
    return undefined;
  }

  /** Keeps a datagram for a later receive; the oldest kept goes past the limit. */
  #keep(received: Received): void {
    this.#ready.push(received);
    if (this.#ready.length > READY_LIMIT) this.#ready.shift();
  }

  /** Hands kept datagrams to the callers now first in line, while they take them. */
  #serveReady(): void {
    for (let served = 0; served < READY_LIMIT; served++) {
      const want = this.#waiters.head;
      if (want === undefined || this.#ready.length === 0) return;
      const datagram = this.#takeReady(want);
      if (datagram === undefined) return;
      this.#waiters.resolveHead(datagram);
    }
  }

  #accepts(addr: Deno.NetAddr): boolean {
    const peer = this.#peer;
    return peer === undefined ||
      (addr.port === peer.port &&
        (addr.hostname === peer.canonical ||
          canonicalIp(addr.hostname) === peer.canonical));
  }

  /**
   * Starts a receive when someone waits and none is pending. Never more than
   * one is pending: the runtime receives into `#buffer`, which must stay
   * untouched until it resolves. A receive is started on demand rather than
   * kept pending while nobody waits: the OS queues datagrams in the socket's
   * receive buffer either way, so a pending receive adds no capacity
   * (measured: the same loss and rate under overload), and an idle socket
   * then holds no op that would keep the process alive.
   */
  #pump(): void {
    if (
      this.#receiving || this.#closed || this.#waiters.length === 0
    ) return;
    this.#receiving = true;
    this.#conn.receive(this.#buffer).then(this.#onReceive, this.#onError);
  }

  #onReceive = (result: [Uint8Array<ArrayBuffer>, Deno.Addr]): void => {
    this.#receiving = false;
    if (this.#closed) return;
    const view = result[0];
    const addr = result[1] as Deno.NetAddr;
    if (!this.#accepts(addr)) {
      this.#pump();
      return;
    }
    const want = this.#waiters.head;
    if (want === undefined) {
      // The caller timed out or was aborted: keep the datagram for the next.
      this.#keep({ data: view.slice(), addr });
      return;
    }
    if (want.sort !== undefined) {
      // A request's: copy it whole, since it may be kept for someone else.
      const received = { data: view.slice(), addr };
      const datagram = toDatagram(received, want.maxBytes);
      const verdict = want.sort(datagram);
      if (verdict === "take") {
        this.#waiters.resolveHead(datagram);
        this.#serveReady();
      } else if (verdict === "keep") {
        this.#keep(received);
      }
      this.#pump();
      return;
    }
    const maxBytes = want.maxBytes;
    const length = view.length;
    const truncated = length > maxBytes;
    // Copy out before the buffer is handed to the next receive.
    const data = view.slice(0, truncated ? maxBytes : length);
    this.#waiters.resolveHead({ data, addr, truncated });
    this.#serveReady();
    this.#pump();
  };

  #onError = (error: unknown): void => {
    this.#receiving = false;
    if (this.#closed) return;
    const socketError = toSocketError(error, RECEIVE);
    if (this.#waiters.length === 0) {
      this.#error = socketError;
      return;
    }
    this.#waiters.rejectHead(socketError);
    this.#pump();
  };
}
