// Opening a listener: TCP, TLS (its connections' handshakes run in tls.ts's
// handshake()) or a Unix domain socket, and the errors of doing so.

import { SocketError } from "../errors.ts";
import { toSocketError } from "../io/runtime_errors.ts";
import { DEFAULT_HOSTNAME } from "../io/validate.ts";
import { formatAddress } from "./address.ts";
import type { TlsListenOptions } from "./options.ts";

/** Where to listen: a host and port (maybe with TLS), or a Unix socket path. */
export interface ListenTarget {
  hostname?: string;
  port?: number;
  path?: string;
  tls?: TlsListenOptions;
  reusePort?: boolean;
  backlog?: number;
}

/**
 * Opens a listener: TCP, TLS (accepted connections need {@linkcode handshake})
 * or Unix.
 *
 * @param target Where to listen, and how.
 * @param where How the address reads in error messages.
 */
export function openListener(
  target: ListenTarget,
  where: string = `listen on ${formatAddress(target)}`,
): Deno.Listener {
  const { path, tls, reusePort, backlog } = target;
  // Without the flag the runtime ends the process on a reusePort listen.
  if (reusePort && typeof Deno.listenDatagram !== "function") {
    throw new SocketError(
      "ENOSYS",
      `Cannot ${where}: reusePort is an unstable Deno API: run with the ` +
        '--unstable-net flag, or set "unstable": ["net"] in the deno.json ' +
        "of your project (a library's deno.json does not apply to your program)",
    );
  }
  try {
    if (path !== undefined) {
      return Deno.listen({ transport: "unix", path });
    }
    const options = {
      hostname: target.hostname ?? DEFAULT_HOSTNAME,
      port: target.port ?? 0,
      transport: "tcp" as const,
      ...(reusePort === undefined ? {} : { reusePort }),
      ...(backlog === undefined ? {} : { tcpBacklog: backlog }),
    };
    if (tls === undefined) return Deno.listen(options);
    return Deno.listenTls({
      ...options,
      cert: tls.cert,
      key: tls.key,
      ...(tls.alpnProtocols === undefined
        ? {}
        : { alpnProtocols: tls.alpnProtocols }),
    });
  } catch (error) {
    throw listenError(error, where, path);
  }
}

function listenError(
  error: unknown,
  where: string,
  path: string | undefined,
): SocketError {
  if (path !== undefined) {
    if (error instanceof Deno.errors.AddrInUse) {
      return new SocketError(
        "EADDRINUSE",
        `Cannot ${where}: the path is taken: a server listens there, or a ` +
          `socket file was left by one that exited without closing it ` +
          `(it is not deleted for you: remove ${path} if no server uses it)`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.NotFound) {
      return new SocketError(
        "ENOENT",
        `Cannot ${where}: the directory of ${path} does not exist`,
        { cause: error },
      );
    }
  }
  if (
    error instanceof Error && !(error instanceof SocketError) &&
    (error instanceof Deno.errors.InvalidData ||
      /certificate|private key|keys may not be consistent|pem/i.test(
        error.message,
      ))
  ) {
    return new SocketError(
      "ETLS",
      `Cannot ${where}: the TLS certificate or key is not usable: ${error.message}`,
      { cause: error },
    );
  }
  return toSocketError(error, where);
}
