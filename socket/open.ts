// connect, tryConnect and listen: every option checked before any I/O, then
// a connection or listener opened over the transport the options name.

import { SocketError } from "../errors.ts";
import type { Framing } from "../framing/types.ts";
import {
  checkBoolean,
  checkCount,
  checkDuration,
  checkFraming,
  checkHostname,
  checkOptions,
  checkPort,
  checkPositive,
  checkSignal,
  DEFAULT_HOSTNAME,
  withDefault,
} from "../io/validate.ts";
import { formatAddress } from "../transport/address.ts";
import { checkTransport } from "../transport/check.ts";
import { openConnection } from "../transport/connect.ts";
import { openListener } from "../transport/listen.ts";
import type {
  ConnectOptions,
  ListenOptions,
  SocketOptions,
  UnixConnectOptions,
  UnixListenOptions,
} from "../transport/options.ts";
import { StreamSocket } from "./stream_socket.ts";
import { StreamServer } from "./server.ts";

/**
 * Opens a connection to a Unix domain socket: `connect({ path })`.
 *
 * Requires `allow-read`, `allow-write` and `allow-net` (`unix:<path>`)
 * permissions.
 *
 * @param options The socket file's path, the timeout and the socket's options.
 * @returns The connected socket; its addresses are `{ transport: "unix", path }`.
 * @throws {SocketError} `ENOENT` (no socket file there), `ECONNREFUSED` (a
 * file nobody listens on), `EPERM`, `ETIMEDOUT`, `ECANCELED`.
 * @tags allow-read, allow-write, allow-net
 */
export function connect(
  options: UnixConnectOptions,
): Promise<StreamSocket<Uint8Array, Deno.UnixAddr>>;
/**
 * Opens a connection to a Unix domain socket whose frames are the values of
 * `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function connect<T>(
  options: UnixConnectOptions<T> & { framing: Framing<T> },
): Promise<StreamSocket<T, Deno.UnixAddr>>;
/**
 * Opens a TCP connection, or a TLS one with `tls`.
 *
 * Requires `allow-net` permission.
 *
 * @param options Where to connect, TLS, the timeout and the socket's options.
 * @returns The connected socket.
 * @throws {SocketError} `ECONNREFUSED` (nothing listens there), `ETIMEDOUT`,
 * `ECANCELED`, `EPERM` (no `--allow-net`), `ENOTFOUND`; with TLS, `ECERT`
 * (the server's certificate is rejected) or `ETLS` (the handshake failed).
 * @throws {RangeError} An invalid port or `highWaterMark`.
 * @throws {TypeError} An option of the wrong type, named in the message: a
 * `framing` that is not a framing, a `signal` that is not an AbortSignal,
 * `tls.caCerts` holding file paths instead of PEM text.
 *
 * @example Connecting, sending, closing
 * ```ts
 * import { connect, listen } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = listen();
 * await using client = await connect({ port: server.addr.port, timeout: 1000 });
 * await using peer = await server.accept();
 * await client.send("hi");
 * assertEquals(new TextDecoder().decode(await peer.recvExactly(2)), "hi");
 * ```
 * @tags allow-net
 */
export function connect(options: ConnectOptions): Promise<StreamSocket>;
/**
 * Opens a TCP connection whose frames are the values of `options.framing`:
 * `connect({ port, framing: message() })` resolves to a `StreamSocket<Message>`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function connect<T>(
  options: ConnectOptions<T> & { framing: Framing<T> },
): Promise<StreamSocket<T>>;
/**
 * Opens a connection over whichever transport `options` name, when that is
 * only known at run time (a union of option types); the socket's addresses
 * are then `Deno.Addr`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function connect<T = Uint8Array>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<StreamSocket<T, Deno.Addr>>;
export function connect<T>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<StreamSocket<T, Deno.Addr>> {
  try {
    return open(options, checkConnect(options));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Connects with options `checkConnect` accepted. */
async function open<T>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
  where: string,
): Promise<StreamSocket<T, Deno.Addr>> {
  const { conn, alpnProtocol } = await openConnection(options, where);
  return new StreamSocket(conn, options, alpnProtocol);
}

/** Checks every option of `connect` before any I/O; returns the action's name. */
function checkConnect(
  options: ConnectOptions<unknown> | UnixConnectOptions<unknown>,
): string {
  checkOptions(options, "connect");
  checkTransport(options, "connect", "connect");
  checkDuration(options.timeout, "timeout", "connect");
  checkSignal(options.signal, "connect");
  checkSocketOptions(options, "connect");
  if ("path" in options && options.path !== undefined) {
    return `connect to ${formatAddress(options)}`;
  }
  const { tls } = options as ConnectOptions<unknown>;
  const hostname = checkHostname(
    withDefault(
      (options as ConnectOptions<unknown>).hostname,
      DEFAULT_HOSTNAME,
    ),
    "connect",
  );
  const port = checkPort(
    (options as ConnectOptions<unknown>).port,
    1,
    "connect",
  );
  return `connect to ${formatAddress({ hostname, port, tls })}`;
}

/** Checks the options every socket takes, before any I/O. */
function checkSocketOptions(
  options: SocketOptions<unknown>,
  action: string,
): void {
  checkFraming(options.framing, "framing", action);
  if (options.highWaterMark !== undefined) {
    checkPositive(options.highWaterMark, "highWaterMark", action);
  }
  checkDuration(options.frameTimeout, "frameTimeout", action);
}

/**
 * Like Python's `connect_ex`: a network failure is a value, not an exception.
 *
 * Requires `allow-net` permission.
 *
 * @param options As for {@linkcode connect}: a Unix socket `path` here.
 * @returns `{ ok: true, socket }` or `{ ok: false, error }`.
 * @throws {RangeError} An invalid port or `highWaterMark` (a programming error, not a network one).
 *
 * @example Probing a port nothing listens on
 * ```ts
 * import { listen, tryConnect } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const server = listen();
 * const port = server.addr.port;
 * server.close();
 * const result = await tryConnect({ port });
 * assertEquals(result.ok ? "connected" : result.error.code, "ECONNREFUSED");
 * ```
 * @tags allow-net
 */
export function tryConnect(
  options: UnixConnectOptions,
): Promise<
  | { ok: true; socket: StreamSocket<Uint8Array, Deno.UnixAddr> }
  | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` to a Unix domain socket, for a socket whose frames are the
 * values of `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function tryConnect<T>(
  options: UnixConnectOptions<T> & { framing: Framing<T> },
): Promise<
  | { ok: true; socket: StreamSocket<T, Deno.UnixAddr> }
  | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` over TCP or TLS.
 *
 * @tags allow-net
 */
export function tryConnect(
  options: ConnectOptions,
): Promise<
  { ok: true; socket: StreamSocket } | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` for a socket whose frames are the values of `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function tryConnect<T>(
  options: ConnectOptions<T> & { framing: Framing<T> },
): Promise<
  { ok: true; socket: StreamSocket<T> } | { ok: false; error: SocketError }
>;
/**
 * `tryConnect` over whichever transport `options` name, when that is only
 * known at run time.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function tryConnect<T = Uint8Array>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<
  | { ok: true; socket: StreamSocket<T, Deno.Addr> }
  | { ok: false; error: SocketError }
>;
export async function tryConnect<T>(
  options: ConnectOptions<T> | UnixConnectOptions<T>,
): Promise<
  | { ok: true; socket: StreamSocket<T, Deno.Addr> }
  | { ok: false; error: SocketError }
> {
  const where = checkConnect(options);
  try {
    return { ok: true, socket: await open(options, where) };
  } catch (error) {
    if (error instanceof SocketError) return { ok: false, error };
    throw error;
  }
}

/**
 * Listens on a Unix domain socket: `listen({ path })`. The socket file is
 * deleted when the server closes; one left by a process that died is
 * `EADDRINUSE`, and is not deleted for you.
 *
 * Requires `allow-read`, `allow-write` and `allow-net` (`unix:<path>`)
 * permissions.
 *
 * @param options The socket file's path and the accepted sockets' options.
 * @returns The listening server; its `addr` is `{ transport: "unix", path }`.
 * @throws {SocketError} `EADDRINUSE`, `ENOENT` (no such directory), `EPERM`.
 * @tags allow-read, allow-write, allow-net
 */
export function listen(
  options: UnixListenOptions,
): StreamServer<Uint8Array, Deno.UnixAddr>;
/**
 * Listens on a Unix domain socket; the sockets' frames are the values of
 * `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-read, allow-write, allow-net
 */
export function listen<T>(
  options: UnixListenOptions<T> & { framing: Framing<T> },
): StreamServer<T, Deno.UnixAddr>;
/**
 * Listens for TCP connections, on 127.0.0.1 and a free port by default;
 * with `tls`, for TLS connections.
 *
 * Requires `allow-net` permission.
 *
 * @param options Address, port and the accepted sockets' options.
 * @returns The listening server.
 * @throws {SocketError} `EADDRINUSE`, `EPERM` (no `--allow-net`).
 * @throws {RangeError} An invalid port or `highWaterMark`.
 *
 * @example Accepting connections in a loop
 * ```ts
 * import { connect, listen } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * await using server = listen();
 * const client = await connect({ port: server.addr.port });
 * for await (const socket of server) {
 *   assertEquals(socket.remoteAddr.port, client.localAddr.port);
 *   socket.close();
 *   break; // leaves the server open; `await using` closes it
 * }
 * client.close();
 * ```
 * @tags allow-net
 */
export function listen(options?: ListenOptions): StreamServer;
/**
 * Listens for TCP connections whose sockets' frames are the values of
 * `options.framing`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function listen<T>(
  options: ListenOptions<T> & { framing: Framing<T> },
): StreamServer<T>;
/**
 * Listens over whichever transport `options` name, when that is only known
 * at run time; the server's address is then `Deno.Addr`.
 *
 * @typeParam T The framing's value type.
 * @tags allow-net
 */
export function listen<T = Uint8Array>(
  options: ListenOptions<T> | UnixListenOptions<T>,
): StreamServer<T, Deno.Addr>;
export function listen<T>(
  options: ListenOptions<T> | UnixListenOptions<T> = {},
  // deno-lint-ignore no-explicit-any
): StreamServer<T, any> {
  return new StreamServer(listenerFor(options), options);
}

/**
 * Checks the options of `listen` (and `serve`) before any I/O, then opens
 * the listener they describe.
 */
export function listenerFor(
  options: ListenOptions<unknown> | UnixListenOptions<unknown>,
): Deno.Listener {
  checkOptions(options, "listen");
  checkBoolean(
    (options as ListenOptions<unknown>).reusePort,
    "reusePort",
    "listen",
  );
  checkTransport(options, "listen", "listen");
  checkSocketOptions(options, "listen");
  if ("path" in options && options.path !== undefined) {
    return openListener(options, `listen on ${formatAddress(options)}`);
  }
  const { backlog, tls, handshakeTimeout } = options as ListenOptions<unknown>;
  const hostname = checkHostname(
    withDefault((options as ListenOptions<unknown>).hostname, DEFAULT_HOSTNAME),
    "listen",
  );
  const port = checkPort(
    (options as ListenOptions<unknown>).port ?? 0,
    0,
    "listen",
  );
  if (backlog !== undefined) checkCount(backlog, 0, "backlog", "listen");
  checkDuration(handshakeTimeout, "handshakeTimeout", "listen");
  return openListener(
    { ...options, hostname, port },
    `listen on ${formatAddress({ hostname, port, tls })}`,
  );
}
