/**
 * TCP, TLS and Unix domain sockets: `listen`, `serve`, `connect`,
 * `tryConnect` and {@linkcode StreamSocket}, the same for the three transports
 * (`tls: ...` or `path: ...` in the options).
 *
 * | Python `socket` | here |
 * | --- | --- |
 * | `bind` + `listen` + `accept` | `listen()`, `server.accept()` or `for await` |
 * | the "connection loop" | `serve(options, handler)` |
 * | `connect` / `connect_ex` | `connect()` / `tryConnect()` |
 * | `sendall` / `recv` | `send` / `recv` |
 * | `settimeout` | `socket.timeout` |
 * | `shutdown(SHUT_WR)` | `closeWrite()` |
 * | `struct.pack("!I", n)` headers | `sendFrame` / `recvFrame` with `lengthPrefixed()` |
 *
 * | `ssl.create_default_context(cafile=...).wrap_socket(...)` | `connect({ ..., tls: { caCerts } })` |
 * | `context.load_cert_chain(cert, key)` on the server | `listen({ ..., tls: { cert, key } })` |
 * | `socket.AF_UNIX` | `connect({ path })`, `listen({ path })` |
 *
 * All of it needs `--allow-net` for the addresses used; Unix sockets need
 * `--allow-read`, `--allow-write` and `--allow-net=unix:<absolute path>`.
 *
 * @module
 */

export type { CallOptions } from "./io/wait_queue.ts";
export type {
  ConnectOptions,
  ListenOptions,
  SocketOptions,
  StartTlsOptions,
  TlsConnectOptions,
  TlsListenOptions,
  Transport,
  UnixConnectOptions,
  UnixListenOptions,
} from "./transport/options.ts";
export { StreamSocket } from "./socket/stream_socket.ts";
export { StreamServer } from "./socket/server.ts";
export { connect, listen, tryConnect } from "./socket/open.ts";
export {
  serve,
  type ServeLoopOptions,
  type ServeOptions,
  type Server,
  type UnixServeOptions,
} from "./socket/serve.ts";
export {
  type ServeModule,
  serveWorkers,
  type ServeWorkersOptions,
  WorkerGroup,
} from "./socket/workers.ts";
export { TcpServer, TcpSocket } from "./socket/deprecated.ts";
