// Turns the runtime's errors into SocketErrors with POSIX-style codes, and
// makes the errors every part of the module raises the same way (closed,
// canceled, timed out).

import { SocketError, type SocketErrorCode } from "../errors.ts";

type ErrorClass = new (...args: never[]) => Error;

// Looked up lazily: `Deno` may be missing (another runtime), and importing
// mod.ts must never fail.
let codesByClass: [ErrorClass, SocketErrorCode][] | undefined;

function classTable(): [ErrorClass, SocketErrorCode][] {
  if (codesByClass) return codesByClass;
  const errors = (globalThis as { Deno?: typeof Deno }).Deno?.errors;
  const table: [ErrorClass | undefined, SocketErrorCode][] = [
    [errors?.ConnectionRefused, "ECONNREFUSED"],
    [errors?.ConnectionReset, "ECONNRESET"],
    [errors?.ConnectionAborted, "ECONNABORTED"],
    [errors?.BrokenPipe, "EPIPE"],
    [errors?.NotConnected, "ENOTCONN"],
    [errors?.AddrInUse, "EADDRINUSE"],
    [errors?.AddrNotAvailable, "EADDRNOTAVAIL"],
    [errors?.NotCapable, "EPERM"],
    [errors?.PermissionDenied, "EPERM"],
    [errors?.NetworkUnreachable, "ENETUNREACH"],
    [errors?.TimedOut, "ETIMEDOUT"],
    [errors?.NotFound, "ENOTFOUND"],
    // A socket closed under a pending op (by this side).
    [errors?.BadResource, "ECLOSED"],
    [errors?.Interrupted, "ECLOSED"],
  ];
  codesByClass = table.filter((
    entry,
  ): entry is [ErrorClass, SocketErrorCode] => entry[0] !== undefined);
  return codesByClass;
}

/** OS codes that reach JavaScript as `error.code` and keep their name. */
const OS_CODES: ReadonlySet<string> = new Set<SocketErrorCode>([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTCONN",
  "ETIMEDOUT",
  "EADDRINUSE",
  "EADDRNOTAVAIL",
  "EAFNOSUPPORT",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ENOENT",
  "EMSGSIZE",
  "EDESTADDRREQ",
  "EINVAL",
  "ENOPROTOOPT",
  "ENODEV",
  "EPERM",
]);

// Some OS errors reach JavaScript as a plain Error without `code`; their
// strerror text is the same on Linux and macOS (errno numbers are not).
const codesByMessage: [RegExp, SocketErrorCode][] = [
  [/message too long/i, "EMSGSIZE"],
  [/address family not supported/i, "EAFNOSUPPORT"],
  [/protocol not available/i, "ENOPROTOOPT"],
  [/no such device/i, "ENODEV"],
  [/network is unreachable/i, "ENETUNREACH"],
  [/no route to host/i, "EHOSTUNREACH"],
  [/failed to lookup address/i, "ENOTFOUND"],
];

/** The POSIX-style code for a runtime error. */
export function errorCode(error: unknown): SocketErrorCode {
  if (error instanceof SocketError) return error.code;
  for (const [type, name] of classTable()) {
    if (error instanceof type) return name;
  }
  // Errors without a class of their own keep the OS's errno name
  // ("Message too long (os error 90)" has code "EMSGSIZE").
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && OS_CODES.has(code)) {
    return code as SocketErrorCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  for (const [pattern, name] of codesByMessage) {
    if (pattern.test(message)) return name;
  }
  return "EUNKNOWN";
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

/** The error for an operation whose `signal` fired; its reason is the cause. */
export function canceled(action: string, signal: AbortSignal): SocketError {
  return new SocketError("ECANCELED", `Cannot ${action}: aborted`, {
    cause: signal.reason,
  });
}

/** The error for an operation that took longer than `ms`. */
export function timedOut(action: string, ms: number): SocketError {
  return new SocketError(
    "ETIMEDOUT",
    `Cannot ${action}: timed out after ${ms} ms`,
  );
}

/** Closes `resource`, ignoring the error of one already closed. */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed: nothing to release.
  }
}
