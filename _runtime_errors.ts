// Turns the runtime's errors into SocketErrors with POSIX-style codes, and
// makes the errors every part of the module raises the same way (closed,
// canceled, timed out).

import { SocketError, type SocketErrorCode } from "./errors.ts";

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

/**
 * The optional last argument of every `send*`, `recv*` and `flush` call.
 *
 * @example A receive that gives up after 50 ms and loses nothing
 * ```ts
 * import { type CallOptions, listen, connect, SocketError } from "@wire/socket";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * await using server = listen();
 * await using client = await connect({ port: server.addr.port });
 * await using peer = await server.accept();
 * const options: CallOptions = { timeout: 50 };
 * const error = await assertRejects(() => client.recv(16, options), SocketError);
 * assertEquals(error.code, "ETIMEDOUT");
 * await peer.send("late");
 * assertEquals(new TextDecoder().decode(await client.recvExactly(4)), "late");
 * ```
 */
export interface CallOptions {
  /**
   * Aborting it rejects the call with `SocketError("ECANCELED")`, the
   * signal's reason as `cause`. An aborted receive loses nothing.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds this call may wait before it fails with `ETIMEDOUT`;
   * overrides {@linkcode TcpSocket.timeout}. A timed-out receive loses
   * nothing.
   */
  timeout?: number;
}

/**
 * Settles with `promise`, or rejects with ETIMEDOUT after `timeout` ms or
 * with ECANCELED when `signal` fires. `promise` itself is left running: a
 * late result is not lost, the caller keeps it.
 */
export function bounded<T>(
  promise: Promise<T>,
  options: CallOptions,
  action: string,
): Promise<T> {
  const { signal, timeout } = options;
  const timed = timeout !== undefined && timeout !== Infinity;
  if (!timed && signal === undefined) return promise;
  if (signal?.aborted) return Promise.reject(canceled(action, signal));
  return new Promise<T>((resolve, reject) => {
    const stop = (error: SocketError) => {
      done();
      reject(error);
    };
    const timer = timed
      ? setTimeout(() => stop(timedOut(action, timeout)), timeout)
      : undefined;
    const onAbort = signal && (() => stop(canceled(action, signal)));
    const done = () => {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    };
    if (onAbort) signal?.addEventListener("abort", onAbort, { once: true });
    promise.then((value) => {
      done();
      resolve(value);
    }, (error) => {
      done();
      reject(error);
    });
  });
}

/**
 * Runs `run` with a signal that fires when `options.timeout` expires or
 * `options.signal` aborts, for operations the runtime can only stop by an
 * abort or by closing (connects, TLS handshakes). A failure that follows is
 * ETIMEDOUT or ECANCELED (the signal's reason as `cause`); other errors pass
 * through.
 */
export async function underDeadline<T>(
  options: CallOptions,
  action: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { timeout, signal } = options;
  if (signal?.aborted) throw canceled(action, signal);
  const attempt = new AbortController();
  const onAbort = () => attempt.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  let expired = false;
  const timer = timeout === undefined || timeout === Infinity
    ? undefined
    : setTimeout(() => {
      expired = true;
      attempt.abort();
    }, timeout);
  try {
    return await run(attempt.signal);
  } catch (error) {
    if (expired) {
      throw new SocketError(
        "ETIMEDOUT",
        timedOut(action, timeout ?? 0).message,
        {
          cause: error,
        },
      );
    }
    if (signal?.aborted) throw canceled(action, signal);
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
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
