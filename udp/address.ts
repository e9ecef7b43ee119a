// Address helpers for the UDP socket: the comparison behind the connected mode and
// the multicast checks. Private: never re-exported.

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** `hostname` as dotted IPv4 without leading zeros, or undefined. */
function canonicalIpv4(hostname: string): string | undefined {
  const match = IPV4.exec(hostname);
  if (!match) return undefined;
  const parts = match.slice(1).map(Number);
  return parts.every((part) => part <= 255) ? parts.join(".") : undefined;
}

/**
 * The one spelling of an IP address literal, or `undefined` when `hostname`
 * is not one. IPv6 is lower-case and compressed (RFC 5952, as the runtime
 * prints it); an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, as a
 * dual-stack socket reports IPv4 senders) becomes the IPv4 address.
 */
export function canonicalIp(hostname: string): string | undefined {
  const v4 = canonicalIpv4(hostname);
  if (v4 !== undefined) return v4;
  if (!hostname.includes(":")) return undefined;
  const zone = hostname.indexOf("%");
  if (zone !== -1) {
    // URL cannot parse zone ids; compare the address part, keep the zone.
    const address = canonicalIp(hostname.slice(0, zone));
    return address === undefined
      ? undefined
      : `${address}${hostname.slice(zone)}`;
  }
  let v6: string;
  try {
    v6 = new URL(`http://[${hostname}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const mapped = MAPPED_HEX.exec(v6);
  if (mapped) {
    const high = parseInt(mapped[1], 16);
    const low = parseInt(mapped[2], 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return v6;
}

/** Whether `hostname` is an IPv4 address literal. */
export function isIpv4(hostname: string): boolean {
  return canonicalIpv4(hostname) !== undefined;
}

/** Whether `address` is an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast group. */
export function isMulticast(address: string): boolean {
  const v4 = canonicalIpv4(address);
  if (v4 !== undefined) {
    const first = Number(v4.split(".", 1)[0]);
    return first >= 224 && first <= 239;
  }
  const v6 = canonicalIp(address);
  return v6 !== undefined && v6.startsWith("ff");
}
