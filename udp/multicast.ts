// Multicast group membership of a UDP socket.

import { closedError, toSocketError } from "../io/runtime_errors.ts";
import { checkInteger } from "../io/validate.ts";
import { isIpv4, isMulticast } from "./address.ts";

/**
 * Membership of a multicast group, from {@linkcode UdpSocket.joinMulticast}.
 * Closing the socket leaves every group it joined.
 *
 * @example Leaving twice is harmless
 * ```ts
 * import { bindUdp, type MulticastMembership } from "@wire/socket";
 *
 * using socket = bindUdp();
 * const membership: MulticastMembership = await socket.joinMulticast(
 *   "239.255.0.2",
 *   "127.0.0.1",
 * );
 * await membership.setLoopback(true);
 * await membership.leave();
 * await membership.leave(); // does nothing
 * ```
 */
export interface MulticastMembership {
  /** The group address joined. */
  readonly group: string;
  /**
   * Leaves the group. Calling it again, or after the socket is closed, does
   * nothing.
   *
   * @returns A promise that resolves once the group is left.
   * @throws {SocketError} The runtime refused to leave the group.
   */
  leave(): Promise<void>;
  /**
   * Whether datagrams this socket sends to the group are looped back to the
   * local machine (`IP_MULTICAST_LOOP`).
   *
   * @param loopback `true` to loop datagrams back.
   * @returns A promise that resolves once the option is set.
   * @throws {SocketError} The option could not be set, or the socket is closed.
   */
  setLoopback(loopback: boolean): Promise<void>;
  /**
   * The time-to-live (hop limit) of multicast datagrams this socket sends
   * (`IP_MULTICAST_TTL`). IPv4 only.
   *
   * @param ttl Hops, 0 to 255; 1 keeps datagrams on the local network.
   * @returns A promise that resolves once the option is set.
   * @throws {RangeError} `ttl` is not an integer from 0 to 255.
   * @throws {TypeError} The group is IPv6 (Deno has no hop-limit setting).
   * @throws {SocketError} The option could not be set, or the socket is closed.
   */
  setTTL(ttl: number): Promise<void>;
}

/**
 * Joins `group` on `conn` (see `UdpSocket.joinMulticast`); `closed` tells
 * whether the socket has been closed since.
 */
export async function join(
  conn: Deno.DatagramConn,
  group: string,
  networkInterface: string | number | undefined,
  closed: () => boolean,
): Promise<MulticastMembership> {
  const action = `join multicast group ${String(group)}`;
  if (typeof group !== "string" || !isMulticast(group)) {
    throw new TypeError(
      `Cannot ${action}: not an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address`,
    );
  }
  const v4 = isIpv4(group);
  const iface = networkInterface ?? (v4 ? "0.0.0.0" : 0);
  if (
    v4
      ? typeof iface !== "string" || !isIpv4(iface)
      : typeof iface !== "number" || !Number.isInteger(iface) || iface < 0
  ) {
    throw new TypeError(
      `Cannot ${action}: the interface of an ${
        v4
          ? "IPv4 group must be an IPv4 address"
          : "IPv6 group must be an interface index (an integer >= 0)"
      }, got ${typeof iface === "string" ? `"${iface}"` : String(iface)}`,
    );
  }
  if (closed()) throw closedError(action);
  let membership: Deno.MulticastV4Membership | Deno.MulticastV6Membership;
  try {
    membership = v4
      ? await conn.joinMulticastV4(group, iface as string)
      : await conn.joinMulticastV6(group, iface as number);
  } catch (error) {
    throw toSocketError(error, action);
  }
  return membershipOf(group, membership, closed);
}

function membershipOf(
  group: string,
  membership: Deno.MulticastV4Membership | Deno.MulticastV6Membership,
  closed: () => boolean,
): MulticastMembership {
  let left = false;
  const run = async (what: string, op: () => Promise<void>) => {
    const action = `${what} for multicast group ${group}`;
    if (closed()) throw closedError(action);
    try {
      await op();
    } catch (error) {
      throw toSocketError(error, action);
    }
  };
  return {
    group,
    leave: async () => {
      if (left || closed()) return;
      left = true;
      await run("leave", () => membership.leave());
    },
    setLoopback: (loopback) =>
      run("set loopback", () => membership.setLoopback(loopback)),
    setTTL: (ttl) => {
      try {
        checkInteger(
          ttl,
          0,
          255,
          "ttl",
          `set TTL for multicast group ${group}`,
        );
      } catch (error) {
        return Promise.reject(error);
      }
      if (!("setTTL" in membership)) {
        return Promise.reject(
          new TypeError(
            `Cannot set TTL for multicast group ${group}: Deno has no hop-limit setting for IPv6 groups`,
          ),
        );
      }
      return run("set TTL", () => membership.setTTL(ttl));
    },
  };
}
