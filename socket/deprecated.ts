// The names the stream socket and server had before they were named for what
// they are (TCP, TLS and Unix alike), kept so that no user's code breaks.

import { StreamServer } from "./server.ts";
import { StreamSocket } from "./stream_socket.ts";

/**
 * The stream socket's former name.
 *
 * @deprecated Use {@linkcode StreamSocket}: the same class, named for TCP,
 * TLS and Unix sockets alike.
 */
export const TcpSocket: typeof StreamSocket = StreamSocket;
/**
 * The stream socket's former name.
 *
 * @typeParam T The type of the socket's frames.
 * @typeParam A The address type.
 * @deprecated Use {@linkcode StreamSocket}.
 */
export type TcpSocket<T = Uint8Array, A extends Deno.Addr = Deno.NetAddr> =
  StreamSocket<T, A>;

/**
 * The server's former name.
 *
 * @deprecated Use {@linkcode StreamServer}: the same class, which `listen`
 * and `serve` both return.
 */
export const TcpServer: typeof StreamServer = StreamServer;
/**
 * The server's former name.
 *
 * @typeParam T The type of the accepted sockets' frames.
 * @typeParam A The address type.
 * @deprecated Use {@linkcode StreamServer}.
 */
export type TcpServer<T = Uint8Array, A extends Deno.Addr = Deno.NetAddr> =
  StreamServer<T, A>;
