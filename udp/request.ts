// The UDP client loop, done once: send a datagram, wait for the reply with a
// timeout, send again with a longer wait, give up with ETIMEDOUT after the
// last try. Which datagram is the reply is decided here (`verdict`); the
// socket's wait queue decides when it is this request's turn to receive.

import { SocketError } from "../errors.ts";
import type { CallOptions } from "../io/wait_queue.ts";
import {
  checkCount,
  checkFunction,
  checkHostname,
  checkInteger,
  checkOptions,
  checkPort,
  checkPositive,
  checkSignal,
  show,
} from "../io/validate.ts";
import { canonicalIp } from "./address.ts";
import type { Datagram, UdpAddress } from "./datagram.ts";

/**
 * Options for {@linkcode UdpSocket.request}.
 *
 * @example Waiting less, trying more
 * ```ts
 * import { bindUdp, type UdpRequestOptions } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * using server = bindUdp();
 * using client = bindUdp();
 * const options: UdpRequestOptions = { timeout: 200, tries: 5, backoff: 1.5 };
 * const replying = (async () => {
 *   const { data, addr } = await server.recvFrom();
 *   await server.sendTo(data, addr);
 * })();
 * const reply = await client.request("ping", server.addr, options);
 * assertEquals(new TextDecoder().decode(reply.data), "ping");
 * await replying;
 * ```
 */
export interface UdpRequestOptions {
  /**
   * Milliseconds the first try waits for the reply; each later try waits
   * `backoff` times as long as the one before.
   * @default {1000}
   */
  timeout?: number;
  /**
   * How many times the datagram is sent before the request fails with
   * `ETIMEDOUT` (1 to 100).
   * @default {3}
   */
  tries?: number;
  /**
   * The factor by which each try's wait grows (at least 1).
   * @default {2}
   */
  backoff?: number;
  /**
   * The most bytes of the reply to return, as for
   * {@linkcode UdpSocket.recvFrom}; a longer reply comes with
   * `truncated: true`.
   * @default {65535}
   */
  maxBytes?: number;
  /** Aborting it ends the request at once: `ECANCELED`, the reason as `cause`. */
  signal?: AbortSignal;
  /**
   * Whether `reply` (a datagram from the address the request went to) is
   * the answer to `request` (the bytes sent). Give it whenever the protocol
   * can tell: an id echoed in the reply (DNS's, a sequence number), or the
   * echo itself. A datagram it rejects is not the answer: it stays for the
   * socket's other receives (another request, `recvFrom`), up to 64 such
   * datagrams kept, the oldest dropped first.
   *
   * Without it, the first datagram from that address is the answer, with one
   * exception: when an earlier request was sent more than once, a copy of
   * its answer (the same bytes from the same address) is taken for the late
   * reply to one of its other tries and dropped, once per such try, for as
   * long as that request could have waited in all (1000 + 2000 + 4000 ms by
   * default) after it was answered. A reply to a request that gave up
   * (`ETIMEDOUT`) cannot be recognised that way; a protocol that must tell
   * replies apart passes `match`.
   */
  match?: (reply: Datagram, request: Uint8Array) => boolean;
}

/** What the request loop needs of the socket. */
export interface RequestIo {
  /** Sends one datagram. */
  send(bytes: Uint8Array, to: UdpAddress): Promise<number>;
  /**
   * Receives in call order the first datagram `sort` says to take; `"keep"`
   * leaves one for other receives, `"drop"` discards it.
   */
  receive(
    maxBytes: number,
    call: CallOptions,
    sort: (datagram: Datagram) => Verdict,
  ): Promise<Datagram>;
  /** `hostname` as the runtime spells sender addresses, or a TypeError. */
  canonical(hostname: string, action: string): string;
  /** The copies of earlier answers still owed (see `match`). */
  readonly owed: OwedCopies;
}

/** What a waiting request does with a datagram. */
export type Verdict = "take" | "keep" | "drop";

/** How many owed answers a socket remembers; older ones are forgotten. */
const OWED_LIMIT = 16;

interface Owed {
  canonical: string;
  port: number;
  bytes: Uint8Array;
  copies: number;
  until: number;
}

/**
 * Answers of finished requests that were sent more than once: their other
 * tries may still be answered, with a copy of the same bytes.
 */
export class OwedCopies {
  #owed: Owed[] = [];

  /** Records that `copies` more copies of `bytes` from that address may come until `until`. */
  add(
    canonical: string,
    port: number,
    bytes: Uint8Array,
    copies: number,
    until: number,
  ): void {
    if (copies <= 0) return;
    this.#owed.push({ canonical, port, bytes: bytes.slice(), copies, until });
    if (this.#owed.length > OWED_LIMIT) this.#owed.shift();
  }

  /** Whether the datagram is an owed copy; if so it is counted as arrived. */
  claim(
    canonical: string,
    port: number,
    data: Uint8Array,
    now: number,
  ): boolean {
    this.#owed = this.#owed.filter((owed) =>
      owed.until > now && owed.copies > 0
    );
    for (const owed of this.#owed) {
      if (
        owed.port === port && owed.canonical === canonical &&
        sameBytes(owed.bytes, data)
      ) {
        owed.copies--;
        return true;
      }
    }
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The default wait of the first try, in ms. */
const TIMEOUT = 1000;
const TRIES = 3;
const BACKOFF = 2;
const DEFAULT_MAX_BYTES = 65535;

/**
 * Sends `bytes` to `to` and waits for the answer, sending again after each
 * try's wait; the loop behind {@linkcode UdpSocket.request}.
 */
export async function request(
  io: RequestIo,
  bytes: Uint8Array,
  to: UdpAddress,
  options: UdpRequestOptions = {},
): Promise<Datagram> {
  checkOptions(options, "send request");
  const timeout = checkPositive(
    options.timeout ?? TIMEOUT,
    "timeout",
    "send request",
  );
  const tries = checkInteger(
    options.tries ?? TRIES,
    1,
    100,
    "tries",
    "send request",
  );
  const backoff = options.backoff ?? BACKOFF;
  if (typeof backoff !== "number" || !(backoff >= 1)) {
    const message =
      `Cannot send request: backoff must be a number of at least 1, got ${
        show(backoff)
      }`;
    throw typeof backoff === "number"
      ? new RangeError(message)
      : new TypeError(message);
  }
  const maxBytes = Math.min(
    checkCount(
      options.maxBytes ?? DEFAULT_MAX_BYTES,
      0,
      "maxBytes",
      "send request",
    ),
    DEFAULT_MAX_BYTES,
  );
  const { signal, match } = options;
  checkSignal(signal, "send request");
  checkFunction(match, "match", "send request", true);
  const hostname = checkHostname(to?.hostname, "send request");
  const port = checkPort(to?.port, 1, "send request");
  const canonical = io.canonical(hostname, "send request");
  const action = `request from ${hostname}:${port}`;

  const sort = (datagram: Datagram): Verdict => {
    const { addr } = datagram;
    if (
      addr.port !== port ||
      (addr.hostname !== canonical && canonicalIp(addr.hostname) !== canonical)
    ) {
      return "keep"; // another sender's: not the reply
    }
    if (match !== undefined) return match(datagram, bytes) ? "take" : "keep";
    return io.owed.claim(canonical, port, datagram.data, Date.now())
      ? "drop"
      : "take";
  };

  const waits: number[] = [];
  let wait = timeout;
  // How long the request could have waited in all: how long an owed copy
  // of its answer is watched for.
  let budget = 0;
  for (let i = 0; i < tries; i++) budget += timeout * backoff ** i;
  for (let sent = 1; sent <= tries; sent++) {
    // The receive joins the socket's queue before the send: a request takes
    // its place in call order when it is made, and no reply can arrive
    // before it waits. A send that fails withdraws it.
    const withdraw = new AbortController();
    const receiving = io.receive(maxBytes, {
      timeout: wait,
      signal: signal
        ? AbortSignal.any([signal, withdraw.signal])
        : withdraw.signal,
    }, sort);
    try {
      await io.send(bytes, to);
    } catch (error) {
      withdraw.abort();
      await receiving.catch(() => {});
      throw error;
    }
    waits.push(Math.round(wait));
    try {
      const reply = await receiving;
      if (match === undefined) {
        // Each other try may still be answered, with a copy of this reply.
        io.owed.add(canonical, port, reply.data, sent - 1, Date.now() + budget);
      }
      return reply;
    } catch (error) {
      if (!(error instanceof SocketError && error.code === "ETIMEDOUT")) {
        throw error;
      }
    }
    wait *= backoff;
  }
  throw new SocketError(
    "ETIMEDOUT",
    `Cannot ${action}: no reply after ${tries} ${
      tries === 1 ? "try" : "tries"
    } (waited ${waits.join(" + ")} ms)`,
  );
}
