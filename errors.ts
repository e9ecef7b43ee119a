/**
 * The two error classes every part of the module throws.
 *
 * - {@linkcode FrameError}: the bytes do not form a valid frame (a protocol
 *   problem). Pure: thrown by the codecs in framing/.
 * - {@linkcode SocketError}: the network failed (refused, reset, timed out…),
 *   with a POSIX-style `code` and the runtime's own error as `cause`.
 *
 * @module
 */

/** Why bytes could not be decoded (or a value encoded) as a frame. */
export type FrameErrorCode =
  | "FRAME_TOO_LARGE"
  | "INCOMPLETE_FRAME"
  | "BAD_HEADER";

/**
 * The bytes do not form a valid frame, or a value does not fit a framing.
 *
 * - `FRAME_TOO_LARGE`: a header announces more than the configured limit, or
 *   a value to encode is over it. Thrown as soon as the header is read, before
 *   any allocation of the announced size.
 * - `INCOMPLETE_FRAME`: the stream ended inside a frame.
 * - `BAD_HEADER`: a header is malformed (e.g. a message header that is not a
 *   JSON object, or a bad `size`).
 *
 * @example Reading the code
 * ```ts
 * import { FrameError, lengthPrefixed } from "@wire/socket";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const framing = lengthPrefixed({ maxFrameBytes: 4 });
 * const error = assertThrows(
 *   () => framing.decode(new Uint8Array([0, 0, 0, 9]), 0),
 *   FrameError,
 * );
 * assertEquals(error.code, "FRAME_TOO_LARGE");
 * ```
 */
export class FrameError extends Error {
  /** What was wrong with the frame. */
  readonly code: FrameErrorCode;

  /**
   * Creates a frame error.
   *
   * @param code What was wrong.
   * @param message A sentence that names the offending value.
   * @param options `cause`, where another error lies behind this one.
   */
  constructor(code: FrameErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
    this.code = code;
  }
}

/**
 * The POSIX-style codes a {@linkcode SocketError} carries, so an error reads
 * like the errno a Python or C programmer already knows:
 *
 * | code | meaning |
 * | --- | --- |
 * | `ECONNREFUSED` | nothing listens on that port |
 * | `ECONNRESET` | the peer reset the connection |
 * | `ECONNABORTED` | the connection was aborted (by the OS) |
 * | `EPIPE` | writing to a peer that has gone, or after `closeWrite()` |
 * | `ENOTCONN` | the socket is not connected |
 * | `ETIMEDOUT` | a `timeout` expired |
 * | `EADDRINUSE` | the address is taken (also a Unix socket file left over) |
 * | `EADDRNOTAVAIL` | the address is not one of this machine's |
 * | `EAFNOSUPPORT` | the address family is not supported (e.g. no IPv6) |
 * | `ENETUNREACH`, `EHOSTUNREACH` | no route to the network or host |
 * | `ENOTFOUND` | the hostname did not resolve |
 * | `ENOENT` | no Unix socket at that path |
 * | `EMSGSIZE` | a datagram over the UDP limit |
 * | `EDESTADDRREQ` | a send with no destination (UDP, not connected) |
 * | `EINVAL`, `ENOPROTOOPT`, `ENODEV` | the OS refused an argument or option |
 * | `ECANCELED` | an `AbortSignal` fired; its reason is `cause` |
 * | `EOF` | the stream ended before the bytes asked for |
 * | `ECLOSED` | the socket was closed (by this side, or by `serve`) |
 * | `EBUSY` | the operation must wait for another to finish first |
 * | `EPROTO` | the peer broke the protocol (e.g. data before a TLS handshake) |
 * | `ECERT` | the peer's TLS certificate was rejected |
 * | `ETLS` | the TLS handshake failed for another reason, or the peer's TLS data was corrupt (a bad record or MAC) |
 * | `EPERM` | the runtime refused permission (`--allow-net`…) |
 * | `ENOSYS` | the runtime lacks the API (UDP without `--unstable-net`) |
 * | `EUNKNOWN` | anything else; see `cause` |
 */
export type SocketErrorCode =
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "ECONNABORTED"
  | "EPIPE"
  | "ENOTCONN"
  | "ETIMEDOUT"
  | "EADDRINUSE"
  | "EADDRNOTAVAIL"
  | "EAFNOSUPPORT"
  | "ENETUNREACH"
  | "EHOSTUNREACH"
  | "ENOTFOUND"
  | "ENOENT"
  | "EMSGSIZE"
  | "EDESTADDRREQ"
  | "EINVAL"
  | "ENOPROTOOPT"
  | "ENODEV"
  | "ECANCELED"
  | "EOF"
  | "ECLOSED"
  | "EBUSY"
  | "EPROTO"
  | "ECERT"
  | "ETLS"
  | "EPERM"
  | "ENOSYS"
  | "EUNKNOWN";

/**
 * A network operation failed. `code` says what, in POSIX style (see
 * {@linkcode SocketErrorCode}); `cause` holds the runtime's own error where
 * there was one.
 *
 * @example Telling a refused connection apart
 * ```ts
 * import { SocketError } from "@wire/socket";
 * import { assert } from "@std/assert";
 *
 * const error = new SocketError("ECONNREFUSED", "Connection refused");
 * assert(error instanceof Error && error.code === "ECONNREFUSED");
 * ```
 */
export class SocketError extends Error {
  /** The POSIX-style error code, e.g. `"ECONNRESET"`. */
  readonly code: SocketErrorCode;

  /**
   * Creates a socket error.
   *
   * @param code The POSIX-style code.
   * @param message What failed, with the address or size involved.
   * @param options `cause`: the runtime's own error, where there was one.
   */
  constructor(
    code: SocketErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SocketError";
    this.code = code;
  }
}
