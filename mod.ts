/**
 * TCP and UDP sockets for Deno with message framing, timeouts and errors that
 * say what happened.
 *
 * @example Frames survive however TCP splits them
 * ```ts
 * import { encodeFrame, FrameDecoder, lengthPrefixed } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const decoder = new FrameDecoder(lengthPrefixed());
 * const bytes = encodeFrame(new Uint8Array([1, 2, 3]));
 * assertEquals(decoder.push(bytes.subarray(0, 5)), []);
 * assertEquals(decoder.push(bytes.subarray(5)).map((f) => [...f]), [[1, 2, 3]]);
 * ```
 *
 * @module
 */

export {
  crlfLines,
  type CrlfLinesOptions,
  decodeFrames,
  DecoderStream,
  delimited,
  type DelimitedOptions,
  encodeFrame,
  EncoderStream,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  type Framing,
  lengthField,
  type LengthFieldOptions,
  lengthPrefixed,
  type LengthPrefixOptions,
  type Message,
  message,
  type MessageFraming,
  type MessageOptions,
  netstring,
  type NetstringOptions,
  type ParsedFraming,
  parseFraming,
  varintPrefixed,
  type VarintPrefixOptions,
} from "./framing.ts";
export { SocketError, type SocketErrorCode } from "./errors.ts";
export {
  type CallOptions,
  connect,
  type ConnectOptions,
  listen,
  type ListenOptions,
  serve,
  type ServeLoopOptions,
  type ServeModule,
  type ServeOptions,
  type Server,
  serveWorkers,
  type ServeWorkersOptions,
  type SocketOptions,
  type StartTlsOptions,
  StreamServer,
  StreamSocket,
  TcpServer,
  TcpSocket,
  type TlsConnectOptions,
  type TlsListenOptions,
  type Transport,
  tryConnect,
  type UnixConnectOptions,
  type UnixListenOptions,
  type UnixServeOptions,
  WorkerGroup,
} from "./tcp.ts";
export {
  bindUdp,
  type BindUdpOptions,
  type Datagram,
  MAX_DATAGRAM_BYTES,
  type MulticastMembership,
  type RecvFromOptions,
  type UdpAddress,
  type UdpRequestOptions,
  UdpSocket,
} from "./udp.ts";
