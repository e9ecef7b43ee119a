// The one way to wait. Calls that wait for something (a receive for bytes, a
// datagram, an accepted connection) join a WaitQueue: served in call order,
// each with its own timeout and abort signal, all settled at once on close.
// Deadlines on anything else (a connect, a handshake, a send waiting for
// room) go through withDeadline. Both watch time and signals through
// watchDeadline, the one place that arms a timer and an abort listener.

import { SocketError } from "../errors.ts";
import { canceled, timedOut } from "./runtime_errors.ts";

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
   * overrides {@linkcode StreamSocket.timeout}. A timed-out receive loses
   * nothing.
   */
  timeout?: number;
}

/**
 * Calls `expire` once, with ETIMEDOUT after `options.timeout` ms or with
 * ECANCELED when `options.signal` fires. Returns the function that disarms
 * both. The signal must not be aborted already (callers check first, so
 * that they can reject without arming anything).
 */
export function watchDeadline(
  options: CallOptions,
  action: string,
  expire: (error: SocketError) => void,
): () => void {
  const { timeout, signal } = options;
  const timer = timeout === undefined || timeout === Infinity
    ? undefined
    : setTimeout(() => {
      disarm();
      expire(timedOut(action, timeout));
    }, timeout);
  const onAbort = signal && (() => {
    disarm();
    expire(canceled(action, signal));
  });
  if (onAbort) signal?.addEventListener("abort", onAbort, { once: true });
  const disarm = () => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  };
  return disarm;
}

/** Whether `options` can end a wait: a finite timeout or a signal. */
function bounds(options: CallOptions): boolean {
  const { timeout } = options;
  return options.signal !== undefined ||
    (timeout !== undefined && timeout !== Infinity);
}

/** A call waiting in a {@linkcode WaitQueue}, with what it asked for. */
interface Waiting<Q, R> {
  readonly request: Q;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
  disarm: (() => void) | undefined;
}

/**
 * Pending calls in call order. The owner serves the head (`head`, then
 * `resolveHead` or `rejectHead`); a call whose timeout passes or whose
 * signal fires leaves the queue with ETIMEDOUT or ECANCELED, and the owner
 * hears of it through `onLeave` (its work, a read in flight, stays for the
 * next call). `close` settles every call at once.
 *
 * @typeParam Q What each call asks for.
 * @typeParam R What it resolves to.
 */
export class WaitQueue<Q, R> {
  /**
   * The calls waiting are `#calls[#first..#end)`. Served calls are cleared
   * rather than shifted out, and once none waits the same slots are used
   * again: a socket's one receive at a time then costs no array growth. A
   * queue that never empties is moved to the front now and then.
   */
  #calls: (Waiting<Q, R> | undefined)[] = [];
  #first = 0;
  #end = 0;
  readonly #onLeave: ((wasHead: boolean) => void) | undefined;

  /** @param onLeave Called after a call gave up (timeout or abort). */
  constructor(onLeave?: (wasHead: boolean) => void) {
    this.#onLeave = onLeave;
  }

  /** How many calls wait. */
  get length(): number {
    return this.#end - this.#first;
  }

  /** What the first call asks for, if any call waits. */
  get head(): Q | undefined {
    return this.#first < this.#end
      ? this.#calls[this.#first]!.request
      : undefined;
  }

  /**
   * Queues a call; rejects at once with ECANCELED when the signal has
   * already fired.
   */
  wait(request: Q, options: CallOptions, action: string): Promise<R> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(canceled(action, signal));
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const call: Waiting<Q, R> = { request, resolve, reject, disarm: undefined };
    if (bounds(options)) {
      call.disarm = watchDeadline(
        options,
        action,
        (error) => this.#leave(call, error),
      );
    }
    const first = this.#first;
    if (first >= 16 && first * 2 >= this.#end) {
      // Never empty for a while: move the calls to the front, so that the
      // slots served do not pile up.
      const calls = this.#calls;
      calls.copyWithin(0, first, this.#end);
      calls.fill(undefined, this.#end - first, this.#end);
      this.#end -= first;
      this.#first = 0;
    }
    this.#calls[this.#end++] = call;
    return promise;
  }

  /** Resolves the first call with `value`. */
  resolveHead(value: R): void {
    const call = this.#shift();
    call?.disarm?.();
    call?.resolve(value);
  }

  /** Rejects the first call with `error`. */
  rejectHead(error: unknown): void {
    const call = this.#shift();
    call?.disarm?.();
    call?.reject(error);
  }

  /** Rejects every waiting call with `error`. */
  close(error: unknown): void {
    const calls = this.#calls.slice(this.#first, this.#end);
    this.#calls = [];
    this.#first = this.#end = 0;
    for (const call of calls) {
      call!.disarm?.();
      call!.reject(error);
    }
  }

  /** Takes the first call out. */
  #shift(): Waiting<Q, R> | undefined {
    const first = this.#first;
    if (first === this.#end) return undefined;
    const calls = this.#calls;
    const call = calls[first];
    calls[first] = undefined;
    if (first + 1 === this.#end) this.#first = this.#end = 0;
    else this.#first = first + 1;
    return call;
  }

  #leave(call: Waiting<Q, R>, error: SocketError): void {
    const calls = this.#calls;
    const index = calls.indexOf(call, this.#first);
    if (index === -1 || index >= this.#end) return;
    const wasHead = index === this.#first;
    calls.copyWithin(index, index + 1, this.#end);
    calls[--this.#end] = undefined;
    if (this.#first === this.#end) this.#first = this.#end = 0;
    call.reject(error);
    this.#onLeave?.(wasHead);
  }
}

/**
 * Puts `options`' timeout and signal on work that is not a queued call.
 *
 * - An operation, `(signal) => Promise`, that stops when its signal fires
 *   (a connect, a TLS handshake): the signal fires at the deadline, and the
 *   result settles once the operation has stopped, as ETIMEDOUT or
 *   ECANCELED with the operation's own error as `cause`. Nothing is left
 *   running.
 * - A promise of work that goes on regardless (a send waiting for room):
 *   the result rejects at the deadline, and the work goes on; its outcome
 *   is the owner's.
 */
export function withDeadline<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  options: CallOptions,
  action: string,
): Promise<T> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(canceled(action, signal));
  if (!bounds(options)) {
    return typeof work === "function"
      ? work(new AbortController().signal)
      : work;
  }
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  if (typeof work !== "function") {
    const disarm = watchDeadline(options, action, reject);
    work.then((value) => {
      disarm();
      resolve(value);
    }, (error) => {
      disarm();
      reject(error);
    });
    return promise;
  }
  const attempt = new AbortController();
  let expired: SocketError | undefined;
  const disarm = watchDeadline(options, action, (error) => {
    expired = error;
    attempt.abort(error);
  });
  let running: Promise<T>;
  try {
    running = work(attempt.signal);
  } catch (error) {
    disarm();
    return Promise.reject(error);
  }
  running.then((value) => {
    disarm();
    resolve(value);
  }, (error) => {
    disarm();
    // A timeout keeps the operation's error as its cause; an abort keeps
    // the signal's reason.
    reject(
      expired?.code === "ETIMEDOUT"
        ? new SocketError("ETIMEDOUT", expired.message, { cause: error })
        : expired ?? error,
    );
  });
  return promise;
}
