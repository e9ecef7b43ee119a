// The transport options, checked before any I/O: a TypeError or RangeError
// that names the option.

import { show } from "../io/validate.ts";
import type { TlsConnectOptions, TlsListenOptions } from "./options.ts";

/** The longest Unix socket path Linux takes (sun_path is 108 bytes). */
const UNIX_PATH_MAX = 107;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) &&
    value.every((item) => typeof item === "string");
}

/**
 * Checks the transport options before any I/O: a TypeError or RangeError
 * that names the option. `side` is "connect" or "listen".
 */
export function checkTransport(
  target: {
    path?: unknown;
    port?: unknown;
    tls?: unknown;
    reusePort?: unknown;
  },
  side: "connect" | "listen",
  action: string,
): void {
  const { path, tls } = target;
  if (path !== undefined) {
    if (typeof path !== "string" || path === "") {
      throw new TypeError(
        `Cannot ${action}: path must be a non-empty string, got ${show(path)}`,
      );
    }
    const bytes = new TextEncoder().encode(path).length;
    if (bytes > UNIX_PATH_MAX) {
      throw new RangeError(
        `Cannot ${action}: a Unix socket path is at most ${UNIX_PATH_MAX} bytes, got ${bytes} bytes`,
      );
    }
    if (target.port !== undefined) {
      throw new TypeError(
        `Cannot ${action}: give either path (a Unix socket) or port, not both`,
      );
    }
    if (tls !== undefined) {
      throw new TypeError(
        `Cannot ${action}: TLS over a Unix socket is not supported (Deno.startTls takes TCP connections only)`,
      );
    }
    if (target.reusePort !== undefined) {
      throw new TypeError(
        `Cannot ${action}: reusePort applies to TCP ports, not to a Unix socket path`,
      );
    }
    return;
  }
  if (tls === undefined) return;
  if (side === "connect") {
    if (tls === true) return;
    if (typeof tls !== "object" || tls === null) {
      throw new TypeError(
        `Cannot ${action}: tls must be true or an object, got ${show(tls)}`,
      );
    }
    const { caCerts, serverName, alpnProtocols } = tls as TlsConnectOptions;
    if (caCerts !== undefined && !isStringArray(caCerts)) {
      throw new TypeError(
        `Cannot ${action}: tls.caCerts must be an array of PEM strings, got ${
          show(caCerts)
        }`,
      );
    }
    if (
      serverName !== undefined &&
      (typeof serverName !== "string" || serverName === "")
    ) {
      throw new TypeError(
        `Cannot ${action}: tls.serverName must be a non-empty string, got ${
          show(serverName)
        }`,
      );
    }
    checkAlpn(alpnProtocols, action);
    return;
  }
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(
      `Cannot ${action}: tls must be an object with cert and key (PEM strings), got ${
        show(tls)
      }`,
    );
  }
  const { cert, key, alpnProtocols } = tls as TlsListenOptions;
  for (const [name, value] of [["cert", cert], ["key", key]] as const) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(
        `Cannot ${action}: tls.${name} must be a PEM string (the file's contents, not its path), got ${
          show(value)
        }`,
      );
    }
  }
  checkAlpn(alpnProtocols, action);
}

/** Throws unless `alpnProtocols` is undefined or an array of strings. */
function checkAlpn(alpnProtocols: unknown, action: string): void {
  if (alpnProtocols !== undefined && !isStringArray(alpnProtocols)) {
    throw new TypeError(
      `Cannot ${action}: tls.alpnProtocols must be an array of strings, got ${
        show(alpnProtocols)
      }`,
    );
  }
}
