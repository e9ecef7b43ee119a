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
  const missing = code === "EPERM" ? missingGrant(reason) : undefined;
  const message = missing === undefined
    ? reason
    : `Requires net access to "${missing}": ${grantHint(missing)}`;
  return new SocketError(code, `Cannot ${action}: ${message}`, {
    cause: error,
  });
}

/** The address a runtime's "Requires net access" message names, if any. */
function missingGrant(message: string): string | undefined {
  return /Requires net access to "([^"]+)"/.exec(message)?.[1];
}

/** Whether the program may use the net address `host` (`"127.0.0.1:9000"`, `"unix:/p"`). */
function granted(host: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "net", host }).state ===
      "granted";
  } catch {
    return false; // a spelling the runtime does not parse
  }
}

/** The loopback names that are one address to the OS but separate grants. */
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

/**
 * What to grant, and why the grant the user probably gave is not it: the
 * runtime only says that access is missing and to "run again with the
 * --allow-net flag", also when the flag was given for another address.
 */
export function grantHint(needed: string): string {
  if (needed.startsWith("unix:")) {
    return `grant exactly this socket's path: --allow-net=${needed} ` +
      "(a Unix socket grant is the absolute path of the socket file; a " +
      "relative one such as unix:./app.sock is refused by Deno before the " +
      "program starts)";
  }
  const colon = needed.lastIndexOf(":");
  const host = needed.slice(0, colon);
  const port = needed.slice(colon + 1);
  if (port === "0") {
    return `binding a port the OS picks needs --allow-net=${needed} ` +
      `(a UDP client binds its own port before it sends: grant ${needed} ` +
      `besides the server's address, e.g. --allow-net=${needed},${host}:9000)`;
  }
  if (LOOPBACK.includes(host)) {
    const others = LOOPBACK.filter((name) =>
      name !== host && granted(`${name}:${port}`)
    );
    if (others.length > 0) {
      return `--allow-net grants ${
        others.map((o) => `${o}:${port}`).join(" and ")
      }, ` +
        `but this needs ${needed}: localhost, 127.0.0.1 and [::1] are ` +
        `separate grants. Grant the name the program uses ` +
        `(--allow-net=${needed}), or use the address that is granted`;
    }
  }
  return `the program's --allow-net does not include ${needed}; add it ` +
    `(--allow-net=${needed}, comma-separated with the others), or use an ` +
    "address it grants";
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
