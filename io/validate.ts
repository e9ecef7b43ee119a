// Argument checks shared by the transports, sockets and servers: one message style,
// "Cannot <action>: <name> must be <rule>, got <value>", and every check made
// before any I/O, so a bad argument never leaks a connection.

import { kindOf } from "../framing/types.ts";

/** Where servers listen and clients connect unless told: this machine only. */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/** How a rejected value is shown in a message: a scalar itself, else its kind. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint") {
    return String(value);
  }
  return kindOf(value);
}

/**
 * The error for a rejected value: a RangeError for a number out of range, a
 * TypeError for a value that is not a number at all. The message is the same.
 */
function numberError(value: unknown, message: string): Error {
  return typeof value === "number"
    ? new RangeError(message)
    : new TypeError(message);
}

/** `value` if it is an integer in `min..max`; a RangeError (a TypeError for a non-number) otherwise. */
export function checkInteger(
  value: unknown,
  min: number,
  max: number,
  name: string,
  action: string,
): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < min ||
    value > max
  ) {
    throw numberError(
      value,
      `Cannot ${action}: ${name} must be an integer from ${min} to ${max}, got ${
        show(value)
      }`,
    );
  }
  return value;
}

/** `port` if it is an integer in `min..65535`; a RangeError otherwise. */
export function checkPort(port: unknown, min: number, action: string): number {
  return checkInteger(port, min, 65535, "port", action);
}

/**
 * `value` if it is a non-empty string; a TypeError naming the option and
 * what it must be (`rule`) otherwise.
 */
export function checkText(
  value: unknown,
  name: string,
  action: string,
  rule = "a non-empty string",
): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `Cannot ${action}: ${name} must be ${rule}, got ${show(value)}`,
    );
  }
  return value;
}

/**
 * `value` if it is undefined or an array of strings; a TypeError naming the
 * option and what it must be (`rule`) otherwise.
 */
export function checkStrings(
  value: unknown,
  name: string,
  action: string,
  rule = "an array of strings",
): string[] | undefined {
  if (
    value !== undefined &&
    !(Array.isArray(value) && value.every((item) => typeof item === "string"))
  ) {
    throw new TypeError(
      `Cannot ${action}: ${name} must be ${rule}, got ${show(value)}`,
    );
  }
  return value;
}

/** `hostname` if it is a non-empty string; a TypeError otherwise. */
export function checkHostname(hostname: unknown, action: string): string {
  return checkText(hostname, "hostname", action);
}

/**
 * `ms` if it is `undefined` or a non-negative number of milliseconds
 * (Infinity too); a RangeError (a TypeError for a non-number) otherwise.
 */
export function checkDuration(
  ms: unknown,
  name: string,
  action: string,
): number | undefined {
  if (ms !== undefined && !(typeof ms === "number" && ms >= 0)) {
    throw numberError(
      ms,
      `Cannot ${action}: ${name} must be a non-negative number of milliseconds or undefined, got ${
        show(ms)
      }`,
    );
  }
  return ms;
}

/** `n` if it is a safe integer of at least `min`; a RangeError (a TypeError for a non-number) otherwise. */
export function checkCount(
  n: unknown,
  min: number,
  name: string,
  action: string,
): number {
  if (!Number.isSafeInteger(n) || (n as number) < min) {
    throw numberError(
      n,
      `Cannot ${action}: ${name} must be an integer of at least ${min}, got ${
        show(n)
      }`,
    );
  }
  return n as number;
}

/** `value` if it is a positive number; a RangeError (a TypeError for a non-number) otherwise. */
export function checkPositive(
  value: unknown,
  name: string,
  action: string,
): number {
  if (!(typeof value === "number" && value > 0)) {
    throw numberError(
      value,
      `Cannot ${action}: ${name} must be a positive number, got ${show(value)}`,
    );
  }
  return value;
}

/**
 * `options` if it is an object (or undefined when `optional`); a TypeError
 * otherwise. Checked first, so a call like `connect(9000)` says what it
 * takes instead of failing on a missing field.
 */
export function checkOptions(
  options: unknown,
  action: string,
  optional = false,
): void {
  if (optional && options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action}: options must be an object, got ${show(options)}`,
    );
  }
}

/** `value` if it is a function (or undefined when `optional`); a TypeError otherwise. */
export function checkFunction(
  value: unknown,
  name: string,
  action: string,
  optional = false,
): void {
  if (optional && value === undefined) return;
  if (typeof value !== "function") {
    throw new TypeError(
      `Cannot ${action}: ${name} must be a function, got ${show(value)}`,
    );
  }
}

/** `value` if it is undefined or a boolean; a TypeError otherwise. */
export function checkBoolean(
  value: unknown,
  name: string,
  action: string,
): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(
      `Cannot ${action}: ${name} must be true, false or undefined, got ${
        show(value)
      }`,
    );
  }
}

/** `signal` if it is undefined or an AbortSignal; a TypeError otherwise. */
export function checkSignal(signal: unknown, action: string): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action}: signal must be an AbortSignal or undefined, got ${
        show(signal)
      }`,
    );
  }
}

/**
 * `framing` if it is undefined or a framing (an object with `encode` and
 * `decode` functions, as every codec of framing/ is); a TypeError otherwise.
 * A name such as `"lines"` is not a framing: the message names the function
 * that makes one.
 */
export function checkFraming(
  framing: unknown,
  name: string,
  action: string,
): void {
  if (framing === undefined) return;
  const candidate = framing as { encode?: unknown; decode?: unknown } | null;
  if (
    typeof candidate === "object" && candidate !== null &&
    typeof candidate.encode === "function" &&
    typeof candidate.decode === "function"
  ) return;
  const hint = typeof framing === "string"
    ? " (a framing is made by a function such as delimited() or lengthPrefixed(), not named by a string)"
    : typeof framing === "function"
    ? " (call the function to make one: delimited(), not delimited)"
    : "";
  throw new TypeError(
    `Cannot ${action}: ${name} must be a framing (an object with encode and decode functions), got ${
      show(framing)
    }${hint}`,
  );
}

const utf8 = new TextEncoder();

/**
 * The bytes of `data`: a Uint8Array as it is, another ArrayBufferView or an
 * ArrayBuffer as a view of its bytes (as Python's `sendall` takes any
 * bytes-like object), a string as UTF-8. Anything else is a TypeError.
 */
export function toBytes(data: unknown, action: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return utf8.encode(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) {
    return new Uint8Array(data);
  }
  throw new TypeError(
    `Cannot ${action}: data must be a string, an ArrayBuffer or an ArrayBufferView, got ${
      show(data)
    }`,
  );
}

/** `value`, or `fallback` when it is undefined (not when it is null: null is a caller's mistake). */
export function withDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}
