// STARTTLS, client side: a plain TCP connection upgraded in place, with the
// policy that keeps plaintext out of the TLS session: no receive may still
// be waiting (its read would race the handshake), and no unread byte may be
// buffered (it came in plaintext before the upgrade and could have been
// injected: CVE-2011-0411).

import { SocketError } from "../errors.ts";
import { type Opened, upgrade } from "../transport/tls.ts";
import type { StartTlsOptions } from "../transport/options.ts";
import type { Lifecycle } from "./lifecycle.ts";

/**
 * Flushes what the caller sent (in plaintext), then hands the connection to
 * a TLS handshake; `life` is closed for good (its calls fail with ECLOSED)
 * and the returned connection is the caller's. `peer` is the name checked
 * when the options give none.
 */
export async function upgradeInPlace(
  life: Lifecycle,
  flush: () => Promise<void>,
  peer: string,
  options: StartTlsOptions,
): Promise<Opened> {
  checkUnread(life);
  // What the caller sent ("STARTTLS\r\n") leaves first, in plaintext.
  await flush();
  checkUnread(life);
  life.markClosed(
    new SocketError(
      "ECLOSED",
      "Cannot use socket: it was upgraded by startTls(); use the socket startTls() returned",
    ),
  );
  // From here the TLS connection owns the runtime's connection.
  life.release();
  return await upgrade(life.conn as Deno.TcpConn, {
    ...options,
    serverName: options.serverName ?? options.hostname ?? peer,
  });
}

/** No read in flight (EBUSY), no unread bytes (EPROTO, and the socket closes). */
function checkUnread(life: Lifecycle): void {
  const reader = life.reader;
  if (reader.reading) {
    throw new SocketError(
      "EBUSY",
      "Cannot start TLS: a receive is still waiting for bytes (after a timed-out or aborted call); the socket is unchanged",
    );
  }
  const unread = reader.buffer.length;
  if (unread > 0) {
    const error = new SocketError(
      "EPROTO",
      `Cannot start TLS: ${unread} bytes arrived in plaintext and were not read before the upgrade; they could have been injected (CVE-2011-0411), so the socket is closed`,
    );
    // Dropped, so nothing can hand them out.
    reader.buffer.take(unread);
    reader.forgetFrame();
    life.destroy(error);
    throw error;
  }
}
