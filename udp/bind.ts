// bindUdp: opens a UDP socket, or says which flag is missing.

import { SocketError } from "../errors.ts";
import { toSocketError } from "../io/runtime_errors.ts";
import {
  checkBoolean,
  checkHostname,
  checkOptions,
  checkPort,
  DEFAULT_HOSTNAME,
  withDefault,
} from "../io/validate.ts";
import { UdpSocket } from "./udp_socket.ts";

/**
 * Options for {@linkcode bindUdp}.
 *
 * @example Binding a chosen port on this machine
 * ```ts
 * import { bindUdp, type BindUdpOptions } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * using probe = bindUdp(); // find a free port for the example
 * const port = probe.addr.port;
 * probe.close();
 * const options: BindUdpOptions = { hostname: "127.0.0.1", port };
 * using socket = bindUdp(options);
 * assertEquals(socket.addr.port, port);
 * ```
 */
export interface BindUdpOptions {
  /**
   * The local address to bind. `"0.0.0.0"` (or `"::"`) receives on every
   * interface; the default receives from this machine only.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The local port; 0 lets the OS pick a free one (read it from
   * {@linkcode UdpSocket.addr}).
   * @default {0}
   */
  port?: number;
  /**
   * Bind even if another socket has the address (`SO_REUSEADDR`), e.g. for
   * several multicast receivers on one port. The newest socket then takes the
   * unicast datagrams.
   * @default {false}
   */
  reuseAddress?: boolean;
  /**
   * Loop multicast datagrams this socket sends back to the local machine
   * (`IP_MULTICAST_LOOP`).
   * @default {false}
   */
  loopback?: boolean;
}

/**
 * Binds a UDP socket (Python's `socket(AF_INET, SOCK_DGRAM)` then `bind`).
 *
 * Needs `--allow-net` for the address and `--unstable-net`: UDP is an
 * unstable Deno API. Set `"unstable": ["net"]` in the deno.json of *your*
 * project (or pass `--unstable-net`); the deno.json of a library you import,
 * this one included, does not apply to your program.
 *
 * @param options The local `hostname` (default `"127.0.0.1"`: this machine
 * only) and `port` (default 0: the OS picks a free one), and socket options.
 * @returns The bound socket. Close it with `close()` or `using`.
 * @throws {SocketError} `ENOSYS` when `Deno.listenDatagram` is missing (no
 * `--unstable-net`; the message says how to enable it); `EADDRINUSE` when
 * the port is taken; `EPERM` without `--allow-net` for the address;
 * `EADDRNOTAVAIL` for an address this machine does not have; others with
 * the runtime's error as `cause`.
 * @throws {RangeError} `port` is not an integer from 0 to 65535.
 * @throws {TypeError} `hostname` is not a non-empty string, or
 * `reuseAddress` or `loopback` is not a boolean.
 *
 * @example Binding a free port
 * ```ts
 * import { bindUdp } from "@wire/socket";
 * import { assert, assertEquals } from "@std/assert";
 *
 * using socket = bindUdp();
 * assertEquals(socket.addr.hostname, "127.0.0.1");
 * assert(socket.addr.port > 0);
 * ```
 *
 * @example A taken port is EADDRINUSE
 * ```ts
 * import { bindUdp, SocketError } from "@wire/socket";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * using first = bindUdp();
 * const error = assertThrows(
 *   () => bindUdp({ port: first.addr.port }),
 *   SocketError,
 * );
 * assertEquals(error.code, "EADDRINUSE");
 * ```
 *
 * @tags allow-net
 */
export function bindUdp(options: BindUdpOptions = {}): UdpSocket {
  const listen = (globalThis as { Deno?: typeof Deno }).Deno?.listenDatagram;
  if (typeof listen !== "function") throw unstableNetError();
  const action = "bind UDP socket";
  checkOptions(options, action);
  checkBoolean(options.reuseAddress, "reuseAddress", action);
  checkBoolean(options.loopback, "loopback", action);
  const hostname = checkHostname(
    withDefault(options.hostname, DEFAULT_HOSTNAME),
    action,
  );
  const port = checkPort(options.port ?? 0, 0, action);
  let conn: Deno.DatagramConn;
  try {
    conn = listen({
      transport: "udp",
      hostname,
      port,
      reuseAddress: options.reuseAddress ?? false,
      loopback: options.loopback ?? false,
    });
  } catch (error) {
    throw toSocketError(error, `${action} to ${hostname}:${port}`);
  }
  return new UdpSocket(conn);
}

/** The error `bindUdp` throws when `Deno.listenDatagram` is missing. */
export function unstableNetError(): SocketError {
  const deno = (globalThis as { Deno?: unknown }).Deno;
  const message = deno === undefined
    ? "Cannot bind UDP socket: UDP sockets need the Deno runtime " +
      "(Deno.listenDatagram), which this runtime does not have"
    : "Cannot bind UDP socket: Deno.listenDatagram is unavailable because " +
      "UDP is an unstable Deno API. Run with the --unstable-net flag " +
      '(deno run --unstable-net ...), or set "unstable": ["net"] in the ' +
      "deno.json of your project. The deno.json of a library you import " +
      "(such as @wire/socket) does not apply to your program.";
  return new SocketError("ENOSYS", message);
}
