// Turns the runtime's errors into SocketErrors with POSIX-style codes.

import { SocketError } from "./errors.ts";

type ErrorClass = new (...args: never[]) => Error;

// Looked up lazily: `Deno` may be missing (another runtime), and importing
// mod.ts must never fail.
let codesByClass: [ErrorClass, string][] | undefined;

function classTable(): [ErrorClass, string][] {
  if (codesByClass) return codesByClass;
  const errors = (globalThis as { Deno?: typeof Deno }).Deno?.errors;
  const table: [ErrorClass | undefined, string][] = [
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
  codesByClass = table.filter((entry): entry is [ErrorClass, string] =>
    entry[0] !== undefined
  );
  return codesByClass;
}

// Some OS errors reach JavaScript as a plain Error without `code`; their
// strerror text is the same on Linux and macOS (errno numbers are not).
const codesByMessage: [RegExp, string][] = [
  [/message too long/i, "EMSGSIZE"],
  [/address family not supported/i, "EAFNOSUPPORT"],
  [/protocol not available/i, "ENOPROTOOPT"],
  [/no such device/i, "ENODEV"],
  [/network is unreachable/i, "ENETUNREACH"],
  [/no route to host/i, "EHOSTUNREACH"],
  [/failed to lookup address/i, "ENOTFOUND"],
];

/** The POSIX-style code for a runtime error. */
export function errorCode(error: unknown): string {
  if (error instanceof SocketError) return error.code;
  for (const [type, name] of classTable()) {
    if (error instanceof type) return name;
  }
  // Errors without a class of their own keep the OS's errno name
  // ("Message too long (os error 90)" has code "EMSGSIZE").
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) return code;
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

/** The error `bindUdp` throws when `Deno.listenDatagram` is missing. */
export function unstableNetError(): SocketError {
  const deno = (globalThis as { Deno?: unknown }).Deno;
  const message = deno === undefined
    ? "Cannot bind UDP socket: UDP sockets need the Deno runtime " +
      "(Deno.listenDatagram), which this runtime does not have"
    : "Cannot bind UDP socket: Deno.listenDatagram is unavailable because " +
      "UDP is an unstable Deno API. Run with the --unstable-net flag " +
      '(deno run --unstable-net ...), or set "unstable": ["net"] in the ' +
      "deno.json of your project. The deno.json of a library you import " +
      "(such as @wire/socket) does not apply to your program.";
  return new SocketError("ENOSYS", message);
}
