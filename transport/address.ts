// How addresses read in messages, and how the runtime wants them spelled.

import { DEFAULT_HOSTNAME } from "../io/validate.ts";

/** How an address reads in messages: `host:port`, `[::1]:port`, or the path. */
export function formatAddress(
  target: { hostname?: string; port?: number; path?: string; tls?: unknown },
): string {
  if (target.path !== undefined) return `unix:${target.path}`;
  const host = target.hostname ?? DEFAULT_HOSTNAME;
  const where = `${host.includes(":") ? `[${host}]` : host}:${target.port}`;
  return target.tls !== undefined && target.tls !== false
    ? `${where} over TLS`
    : where;
}

/** "[::1]" as Deno.startTls wants it: "::1". */
export function unbracket(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
}
