/**
 * Message framing: codecs that put boundaries back on a byte stream.
 *
 * TCP delivers bytes, not messages: two `send`s may arrive as one read, and one
 * `send` may arrive in several (the "sticky packet" problem). A framing turns
 * values into bytes that carry their own boundaries, and finds the values in
 * bytes again however the stream was split. Everything here is pure: no I/O,
 * no `Deno` namespace, so it runs in any runtime.
 *
 * | codec | frame on the wire |
 * | --- | --- |
 * | {@linkcode lengthPrefixed} | a 1-, 2-, 3-, 4- or 8-byte length, then the payload |
 * | {@linkcode lengthField} | a length field inside a larger header (PostgreSQL, MySQL) |
 * | {@linkcode varintPrefixed} | a varint length, then the payload (protobuf delimited) |
 * | {@linkcode netstring} | `5:hello,` |
 * | {@linkcode delimited} | the value, then a delimiter (`"\n"` by default) |
 * | {@linkcode crlfLines} | a line, then `"\r\n"` (read: `"\r\n"` or `"\n"`) |
 * | {@linkcode message} | a 4-byte length, a JSON header with `size`, then the body |
 *
 * {@linkcode parseFraming} makes any of them from a short spec (`length:2:le`,
 * `lines`, `message`), as the command-line tool's `--framing` takes it.
 *
 * Each codec's file draws its frames. {@linkcode FrameDecoder} drives any
 * framing over chunks as they arrive; {@linkcode DecoderStream} and
 * {@linkcode EncoderStream} do it for Web Streams. A {@linkcode Framing} is two
 * methods, `encode` and `decode`: write your own for any other protocol.
 *
 * ## Limits
 *
 * Every framing has a maximum (16 MiB frames, 1 MiB lines, 64 KiB message
 * headers, 16 MiB bodies by default). A header announcing more throws
 * {@linkcode FrameError} `FRAME_TOO_LARGE` as soon as the header is read, before
 * the payload arrives and before anything of that size is allocated.
 *
 * @example Finding frames however the bytes were split
 * ```ts
 * import { encodeFrame, FrameDecoder, lengthPrefixed } from "@wire/socket/framing";
 * import { assertEquals } from "@std/assert";
 *
 * const stream = new Uint8Array([
 *   ...encodeFrame(new TextEncoder().encode("hello")),
 *   ...encodeFrame(new TextEncoder().encode("world")),
 * ]);
 * const decoder = new FrameDecoder(lengthPrefixed());
 * const frames = [
 *   ...decoder.push(stream.subarray(0, 7)), // "hello" is not complete yet
 *   ...decoder.push(stream.subarray(7)),
 * ];
 * assertEquals(frames.map((f) => new TextDecoder().decode(f)), ["hello", "world"]);
 * ```
 *
 * @module
 */

export { FrameError, type FrameErrorCode } from "./errors.ts";
export type { Framing } from "./framing/types.ts";
export {
  decodeFrames,
  encodeFrame,
  lengthPrefixed,
  type LengthPrefixOptions,
} from "./framing/length_prefixed.ts";
export {
  lengthField,
  type LengthFieldOptions,
} from "./framing/length_field.ts";
export { varintPrefixed, type VarintPrefixOptions } from "./framing/varint.ts";
export { netstring, type NetstringOptions } from "./framing/netstring.ts";
export {
  crlfLines,
  type CrlfLinesOptions,
  delimited,
  type DelimitedOptions,
} from "./framing/delimited.ts";
export {
  type Message,
  message,
  type MessageFraming,
  type MessageOptions,
} from "./framing/message.ts";
export { FrameDecoder } from "./framing/decoder.ts";
export { DecoderStream, EncoderStream } from "./framing/streams.ts";
export { type ParsedFraming, parseFraming } from "./framing/spec.ts";
