// The @std/assert and @std/bytes functions the tests use, typed once.
// deno.json maps both to npm:deno-std, which ships JavaScript without types:
// every test imports them from here, never from "@std/assert" directly.

import * as std from "@std/assert";
import * as stdBytes from "@std/bytes";

/** An error class, as the throws/rejects/instance-of checks take it. */
export type ErrorClass<E> = abstract new (...args: never[]) => E;

/** The values `assertFalse` lets through. */
export type Falsy = false | 0 | 0n | "" | null | undefined;

/**
 * The error every failed assertion throws.
 *
 * @example Basic usage
 * ```ts
 * import { AssertionError, assertThrows, fail } from "./assert.ts";
 *
 * assertThrows(() => fail("no"), AssertionError, "no");
 * ```
 */
export const AssertionError: new (message: string) => Error =
  std.AssertionError;

/**
 * Throws an AssertionError unless `expr` is truthy.
 *
 * @example Basic usage
 * ```ts
 * import { assert } from "./assert.ts";
 *
 * assert(1 + 1 === 2, "arithmetic");
 * ```
 */
export const assert: (expr: unknown, msg?: string) => asserts expr = std.assert;

/**
 * Throws an AssertionError unless `expr` is falsy.
 *
 * @example Basic usage
 * ```ts
 * import { assertFalse } from "./assert.ts";
 *
 * assertFalse("".length);
 * ```
 */
export const assertFalse: (
  expr: unknown,
  msg?: string,
) => asserts expr is Falsy = std.assertFalse;

/**
 * Deep equality (arrays, objects, typed arrays, Maps, Sets, Dates...).
 *
 * @example Basic usage
 * ```ts
 * import { assertEquals } from "./assert.ts";
 *
 * assertEquals(new Uint8Array([1, 2]), new Uint8Array([1, 2]));
 * assertEquals({ a: [1] }, { a: [1] });
 * ```
 */
export const assertEquals: (
  actual: unknown,
  expected: unknown,
  msg?: string,
) => void = std.assertEquals;

/**
 * The negation of `assertEquals`.
 *
 * @example Basic usage
 * ```ts
 * import { assertNotEquals } from "./assert.ts";
 *
 * assertNotEquals([1], [2]);
 * ```
 */
export const assertNotEquals: (
  actual: unknown,
  expected: unknown,
  msg?: string,
) => void = std.assertNotEquals;

/**
 * Identity (`Object.is`): the same object, not an equal one.
 *
 * @example Basic usage
 * ```ts
 * import { assertStrictEquals } from "./assert.ts";
 *
 * const a = { x: 1 };
 * assertStrictEquals(a, a);
 * ```
 */
export const assertStrictEquals: <T>(
  actual: unknown,
  expected: T,
  msg?: string,
) => asserts actual is T = std.assertStrictEquals;

/**
 * The negation of `assertStrictEquals`.
 *
 * @example Basic usage
 * ```ts
 * import { assertNotStrictEquals } from "./assert.ts";
 *
 * assertNotStrictEquals({ x: 1 }, { x: 1 });
 * ```
 */
export const assertNotStrictEquals: (
  actual: unknown,
  expected: unknown,
  msg?: string,
) => void = std.assertNotStrictEquals;

/**
 * Throws unless `actual` is neither null nor undefined.
 *
 * @example Basic usage
 * ```ts
 * import { assertExists } from "./assert.ts";
 *
 * const found: number | undefined = [3].find((n) => n > 2);
 * assertExists(found);
 * ```
 */
export const assertExists: <T>(
  actual: T,
  msg?: string,
) => asserts actual is NonNullable<T> = std.assertExists;

/**
 * Throws unless `actual` is an instance of `expectedType`; narrows it.
 *
 * @example Basic usage
 * ```ts
 * import { assertInstanceOf } from "./assert.ts";
 *
 * const error: unknown = new RangeError("x");
 * assertInstanceOf(error, RangeError);
 * error.message;
 * ```
 */
export const assertInstanceOf: <T>(
  actual: unknown,
  expectedType: ErrorClass<T>,
  msg?: string,
) => asserts actual is T = std.assertInstanceOf;

/**
 * Throws unless `actual` contains `expected`.
 *
 * @example Basic usage
 * ```ts
 * import { assertStringIncludes } from "./assert.ts";
 *
 * assertStringIncludes("connection reset", "reset");
 * ```
 */
export const assertStringIncludes: (
  actual: string,
  expected: string,
  msg?: string,
) => void = std.assertStringIncludes;

/**
 * Throws unless `actual` matches `expected`.
 *
 * @example Basic usage
 * ```ts
 * import { assertMatch } from "./assert.ts";
 *
 * assertMatch("port 8080", /^port \d+$/);
 * ```
 */
export const assertMatch: (
  actual: string,
  expected: RegExp,
  msg?: string,
) => void = std.assertMatch;

/**
 * Throws if `actual` matches `expected`.
 *
 * @example Basic usage
 * ```ts
 * import { assertNotMatch } from "./assert.ts";
 *
 * assertNotMatch("ok", /error/);
 * ```
 */
export const assertNotMatch: (
  actual: string,
  expected: RegExp,
  msg?: string,
) => void = std.assertNotMatch;

/**
 * Throws unless every element of `expected` is in `actual` (deep equality).
 *
 * @example Basic usage
 * ```ts
 * import { assertArrayIncludes } from "./assert.ts";
 *
 * assertArrayIncludes([1, 2, 3], [3, 1]);
 * ```
 */
export const assertArrayIncludes: (
  actual: ArrayLike<unknown>,
  expected: ArrayLike<unknown>,
  msg?: string,
) => void = std.assertArrayIncludes;

/**
 * Throws unless `actual > expected`.
 *
 * @example Basic usage
 * ```ts
 * import { assertGreater } from "./assert.ts";
 *
 * assertGreater(2, 1);
 * ```
 */
export const assertGreater: <T>(actual: T, expected: T, msg?: string) => void =
  std.assertGreater;

/**
 * Throws unless `actual >= expected`.
 *
 * @example Basic usage
 * ```ts
 * import { assertGreaterOrEqual } from "./assert.ts";
 *
 * assertGreaterOrEqual(2, 2);
 * ```
 */
export const assertGreaterOrEqual: <T>(
  actual: T,
  expected: T,
  msg?: string,
) => void = std.assertGreaterOrEqual;

/**
 * Throws unless `actual < expected`.
 *
 * @example Basic usage
 * ```ts
 * import { assertLess } from "./assert.ts";
 *
 * assertLess(1, 2);
 * ```
 */
export const assertLess: <T>(actual: T, expected: T, msg?: string) => void =
  std.assertLess;

/**
 * Throws unless `actual <= expected`.
 *
 * @example Basic usage
 * ```ts
 * import { assertLessOrEqual } from "./assert.ts";
 *
 * assertLessOrEqual(2, 2);
 * ```
 */
export const assertLessOrEqual: <T>(
  actual: T,
  expected: T,
  msg?: string,
) => void = std.assertLessOrEqual;

/**
 * Throws unless `|actual - expected| <= tolerance` (default 1e-7).
 *
 * @example Basic usage
 * ```ts
 * import { assertAlmostEquals } from "./assert.ts";
 *
 * assertAlmostEquals(0.1 + 0.2, 0.3);
 * ```
 */
export const assertAlmostEquals: (
  actual: number,
  expected: number,
  tolerance?: number,
  msg?: string,
) => void = std.assertAlmostEquals;

/**
 * Throws unless `fn` throws; with an error class, unless it throws an
 * instance of it whose message includes `msgIncludes`. Returns the error.
 *
 * @example Basic usage
 * ```ts
 * import { assertEquals, assertThrows } from "./assert.ts";
 *
 * const error = assertThrows(() => new Uint8Array(-1), RangeError);
 * assertEquals(error.name, "RangeError");
 * ```
 */
export const assertThrows: {
  (fn: () => unknown, msg?: string): unknown;
  <E extends Error = Error>(
    fn: () => unknown,
    errorClass: ErrorClass<E>,
    msgIncludes?: string,
    msg?: string,
  ): E;
} = std.assertThrows;

/**
 * Throws unless the promise `fn` returns rejects; with an error class, unless
 * it rejects with an instance of it whose message includes `msgIncludes`.
 * Resolves to the error.
 *
 * @example Basic usage
 * ```ts
 * import { assertRejects } from "./assert.ts";
 *
 * await assertRejects(() => Promise.reject(new TypeError("no")), TypeError, "no");
 * ```
 */
export const assertRejects: {
  (fn: () => PromiseLike<unknown>, msg?: string): Promise<unknown>;
  <E extends Error = Error>(
    fn: () => PromiseLike<unknown>,
    errorClass: ErrorClass<E>,
    msgIncludes?: string,
    msg?: string,
  ): Promise<E>;
} = std.assertRejects;

/**
 * Throws an AssertionError: for branches a test must not reach.
 *
 * @example Basic usage
 * ```ts
 * import { assertThrows, fail } from "./assert.ts";
 *
 * assertThrows(() => fail("unexpected"));
 * ```
 */
export const fail: (msg?: string) => never = std.fail;

/**
 * Throws an AssertionError: for code that cannot be reached.
 *
 * @example Basic usage
 * ```ts
 * import { assertThrows, unreachable } from "./assert.ts";
 *
 * assertThrows(() => unreachable());
 * ```
 */
export const unreachable: (msg?: string) => never = std.unreachable;

/**
 * The bytes of `buffers`, one after another, in a new array.
 *
 * @example Basic usage
 * ```ts
 * import { assertEquals, concat } from "./assert.ts";
 *
 * assertEquals(concat([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export const concat: (
  buffers: readonly Uint8Array[],
) => Uint8Array<ArrayBuffer> = stdBytes.concat;

/**
 * Whether two byte arrays hold the same bytes.
 *
 * @example Basic usage
 * ```ts
 * import { assert, equals } from "./assert.ts";
 *
 * assert(equals(new Uint8Array([1, 2]), Uint8Array.of(1, 2)));
 * ```
 */
export const equals: (a: Uint8Array, b: Uint8Array) => boolean =
  stdBytes.equals;

/**
 * The index of the first `needle` in `source` from `start`, or -1.
 *
 * @example Basic usage
 * ```ts
 * import { assertEquals, indexOfNeedle } from "./assert.ts";
 *
 * assertEquals(indexOfNeedle(Uint8Array.of(1, 2, 3), Uint8Array.of(2, 3)), 1);
 * ```
 */
export const indexOfNeedle: (
  source: Uint8Array,
  needle: Uint8Array,
  start?: number,
) => number = stdBytes.indexOfNeedle;
