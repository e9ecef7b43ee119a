// The transport options, checked before any I/O: a TypeError or RangeError
// that names the option.

import { checkStrings, checkText, show } from "../io/validate.ts";
import type { TlsConnectOptions, TlsListenOptions } from "./options.ts";

/** The longest Unix socket path Linux takes (sun_path is 108 bytes). */
const UNIX_PATH_MAX = 107;

/**
 * Checks a client's TLS options (`connect({ tls })`, `startTls(options)`)
 * before any I/O. `prefix` is how the options are named in messages
 * (`"tls."` for connect's, `""` for startTls's).
 */
export function checkTlsClient(
  tls: TlsConnectOptions,
  prefix: string,
  action: string,
): void {
  const { caCerts, serverName, alpnProtocols } = tls;
  checkStrings(caCerts, `${prefix}caCerts`, action, "an array of PEM strings");
  caCerts?.forEach((pem, index) => {
    // A path where the PEM text belongs: the runtime would only say that
    // the certificate is invalid, without naming the option.
    if (!pem.includes("-----BEGIN")) {
      throw new TypeError(
        `Cannot ${action}: ${prefix}caCerts[${index}] must be the certificate file's contents (PEM text with -----BEGIN CERTIFICATE-----), not its path; got ${
          show(pem.length > 80 ? `${pem.slice(0, 77)}...` : pem)
        }: read the file first, e.g. Deno.readTextFileSync(path)`,
      );
    }
  });
  if (serverName !== undefined) {
    checkText(serverName, `${prefix}serverName`, action);
  }
  checkStrings(alpnProtocols, `${prefix}alpnProtocols`, action);
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
    checkText(path, "path", action);
    const bytes = new TextEncoder().encode(path as string).length;
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
    checkTlsClient(tls as TlsConnectOptions, "tls.", action);
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
    checkText(
      value,
      `tls.${name}`,
      action,
      "a PEM string (the file's contents, not its path)",
    );
  }
  checkStrings(alpnProtocols, "tls.alpnProtocols", action);
}
