// Bounded waits and promise checks, for tests that need no socket.

/**
 * Resolves after `ms` milliseconds.
 *
 * @example Basic usage
 * ```ts
 * import { delay } from "./async.ts";
 *
 * await delay(1);
 * ```
 */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Settles like `promise`, or rejects if it takes more than `ms`.
 *
 * @example Basic usage
 * ```ts
 * import { within } from "./async.ts";
 * import { assertEquals, assertRejects } from "./assert.ts";
 *
 * assertEquals(await within(Promise.resolve(1), 100, "one"), 1);
 * const never = new Promise(() => {});
 * await assertRejects(() => within(never, 1, "never"), Error, "never");
 * ```
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Still waiting after ${ms} ms: ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `promise` is still unsettled after the pending I/O and timers of
 * one turn.
 *
 * @example Basic usage
 * ```ts
 * import { isPending } from "./async.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * assertEquals(await isPending(new Promise(() => {})), true);
 * assertEquals(await isPending(Promise.resolve()), false);
 * ```
 */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  await delay(0);
  return !settled;
}

/**
 * The rejection of `promise`; fails if it resolves.
 *
 * @example Basic usage
 * ```ts
 * import { rejection } from "./async.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * const error = new Error("no");
 * assertEquals(await rejection(Promise.reject(error)), error);
 * ```
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected the promise to reject, but it resolved");
}

/** Records the order in which `calls` settle, by name. */
export function settleOrder(
  calls: Record<string, Promise<unknown>>,
): Promise<string[]> {
  const order: string[] = [];
  return Promise.all(
    Object.entries(calls).map(([name, call]) =>
      call.then(
        () => order.push(name),
        () => order.push(`${name} rejected`),
      )
    ),
  ).then(() => order);
}
