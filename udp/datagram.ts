// What a UDP socket sends to and receives: the address and datagram types
// that the socket and its request loop share.

/**
 * One received datagram.
 *
 * @example An empty datagram is a datagram
 * ```ts
 * import { bindUdp, type Datagram } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * using a = bindUdp();
 * using b = bindUdp();
 * await a.sendTo(new Uint8Array(0), b.addr);
 * const datagram: Datagram = await b.recvFrom();
 * assertEquals(datagram.data.length, 0);
 * assertEquals(datagram.truncated, false);
 * assertEquals(datagram.addr.port, a.addr.port);
 * ```
 */
export interface Datagram {
  /**
   * The payload (its first `maxBytes` bytes when `truncated`). The memory is
   * the caller's: the socket never reuses it.
   */
  data: Uint8Array<ArrayBuffer>;
  /** The sender's address: pass it to {@linkcode UdpSocket.sendTo} to reply. */
  addr: Deno.NetAddr;
  /** Whether the datagram was longer than `maxBytes` and was cut short. */
  truncated: boolean;
}

/**
 * Where to send a datagram: an IP address (or a host name) and a port. A
 * `Deno.NetAddr` (such as {@linkcode Datagram.addr}) is one.
 *
 * @example Sending to a host name
 * ```ts
 * import { bindUdp, type UdpAddress } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * using a = bindUdp();
 * using b = bindUdp();
 * const to: UdpAddress = { hostname: "localhost", port: b.addr.port };
 * assertEquals(await a.sendTo("hi", to), 2);
 * ```
 */
export interface UdpAddress {
  /** An IP address, or a name the OS resolves (`"localhost"`). */
  hostname: string;
  /** The destination port, 1 to 65535. */
  port: number;
}
