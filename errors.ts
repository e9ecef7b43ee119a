/**
 * The two error classes every part of the module throws.
 *
 * - {@linkcode FrameError}: the bytes do not form a valid frame (a protocol
 *   problem). Pure: thrown by the codecs in framing.ts.
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
 * A network operation failed. `code` is POSIX-style, so it reads like the
 * errno a Python or C programmer already knows:
 *
 * | code | meaning |
 * | --- | --- |
 * | `ECONNREFUSED` | nothing listens on that port |
 * | `ECONNRESET` | the peer reset the connection |
 * | `EPIPE` | writing to a peer that has gone |
 * | `ETIMEDOUT` | a `timeout` expired |
 * | `EADDRINUSE` | the address is taken |
 * | `EMSGSIZE` | a datagram over the UDP limit |
 * | `ECANCELED` | an `AbortSignal` fired; its reason is `cause` |
 * | `EOF` | the stream ended before the bytes asked for |
 * | `ECLOSED` | the socket was closed (by this side) |
 * | `EPERM` | the runtime refused permission |
 * | `EUNKNOWN` | anything else; see `cause` |
 *
 * `cause` holds the runtime's own error where there was one.
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
  readonly code: string;

  /**
   * Creates a socket error.
   *
   * @param code The POSIX-style code.
   * @param message What failed, with the address or size involved.
   * @param options `cause`: the runtime's own error, where there was one.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SocketError";
    this.code = code;
  }
}
