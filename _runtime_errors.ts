// Turns the runtime's errors into SocketErrors with POSIX-style codes.

import { SocketError } from "./errors.ts";

const codesByClass: [new (...args: never[]) => Error, string][] = [
  [Deno.errors.ConnectionRefused, "ECONNREFUSED"],
  [Deno.errors.ConnectionReset, "ECONNRESET"],
  [Deno.errors.ConnectionAborted, "ECONNABORTED"],
  [Deno.errors.BrokenPipe, "EPIPE"],
  [Deno.errors.TimedOut, "ETIMEDOUT"],
  [Deno.errors.AddrInUse, "EADDRINUSE"],
  [Deno.errors.AddrNotAvailable, "EADDRNOTAVAIL"],
  [Deno.errors.NotConnected, "ENOTCONN"],
  [Deno.errors.NetworkUnreachable, "ENETUNREACH"],
  [Deno.errors.PermissionDenied, "EPERM"],
  [Deno.errors.NotCapable, "EPERM"],
  [Deno.errors.NotFound, "ENOTFOUND"],
  // A resource closed under a pending op: by this side.
  [Deno.errors.BadResource, "ECLOSED"],
  [Deno.errors.Interrupted, "ECLOSED"],
];

/** The POSIX-style code for a runtime error. */
export function errorCode(error: unknown): string {
  if (error instanceof SocketError) return error.code;
  for (const [type, code] of codesByClass) {
    if (error instanceof type) return code;
  }
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : "EUNKNOWN";
}

/** Wraps a runtime error as a SocketError; SocketErrors pass through. */
export function toSocketError(error: unknown, action: string): SocketError {
  if (error instanceof SocketError) return error;
  const code = errorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  return new SocketError(code, `Cannot ${action}: ${reason}`, { cause: error });
}

/** The error for an operation on a socket this side has closed. */
export function closedError(action: string): SocketError {
  return new SocketError("ECLOSED", `Cannot ${action}: the socket is closed`);
}

/**
 * Settles with `promise`, or rejects with ETIMEDOUT after `ms` (when given).
 * `promise` itself is left running: a late result is not lost, the caller
 * keeps it.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number | undefined,
  action: string,
): Promise<T> {
  if (ms === undefined || ms === Infinity) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SocketError(
            "ETIMEDOUT",
            `Cannot ${action}: timed out after ${ms} ms`,
          ),
        ),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
