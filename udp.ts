/**
 * UDP sockets: {@linkcode bindUdp} and {@linkcode UdpSocket}, the Deno
 * counterpart of Python's `socket.socket(AF_INET, SOCK_DGRAM)` with `sendto`,
 * `recvfrom`, `settimeout` and `connect`.
 *
 * UDP delivers datagrams, not a stream: each `sendTo` is one datagram and each
 * `recvFrom` returns one whole datagram (or reports that it did not fit). UDP
 * itself promises little; this module makes each failure visible:
 *
 * | UDP does not promise | what this module does |
 * | --- | --- |
 * | delivery | nothing can detect loss; use a `timeout` and retry (loss is still possible) |
 * | order | datagrams are returned in the order the OS received them |
 * | no duplicates | none are added here; number your messages if it matters |
 * | fitting your buffer | `truncated: true` when a datagram was longer than `maxBytes` (default 65535: never) |
 * | any size | over 65507 bytes is `SocketError("EMSGSIZE")` before anything is sent |
 *
 * An empty datagram is a datagram: it is sent and received with
 * `data.length === 0`.
 *
 * **Permissions and flags.** UDP in Deno is an unstable API: run with
 * `--unstable-net` (or set `"unstable": ["net"]` in *your* deno.json; the
 * deno.json of this package does not reach programs that import it) and
 * `--allow-net`. Without the flag, importing this module still works; only
 * {@linkcode bindUdp} throws, with a message that names the flag.
 *
 * @example A round trip
 * ```ts
 * import { bindUdp } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * using server = bindUdp(); // 127.0.0.1, a free port
 * using client = bindUdp();
 * await client.sendTo("ping", server.addr);
 * const request = await server.recvFrom();
 * await server.sendTo("pong", request.addr); // reply to the sender
 * const reply = await client.recvFrom();
 * assertEquals(new TextDecoder().decode(reply.data), "pong");
 * assertEquals(reply.addr.port, server.addr.port);
 * ```
 *
 * @module
 */

export { bindUdp, type BindUdpOptions } from "./udp/bind.ts";
export {
  type Datagram,
  MAX_DATAGRAM_BYTES,
  type RecvFromOptions,
  type UdpAddress,
  UdpSocket,
} from "./udp/udp_socket.ts";
export type { MulticastMembership } from "./udp/multicast.ts";
export type { UdpRequestOptions } from "./udp/request.ts";
