// The one async-iterator shape of the module: hand-written, since an async
// generator costs more per step than a small frame's decode.

/** The result that ends a loop. */
export const DONE: IteratorResult<never, undefined> = {
  value: undefined,
  done: true,
};

/**
 * An iterator whose steps are `step()`. `return()` (a `break` out of the
 * loop) ends it and closes nothing.
 */
export function iterate<T>(
  step: () => Promise<IteratorResult<T, undefined>>,
): AsyncIterableIterator<T> {
  return new StepIterator(step);
}

// A class, not an object literal of closures: a served connection keeps its
// frames() iterator for its whole life, and methods on a prototype cost it
// nothing (bench:net idle).
class StepIterator<T> implements AsyncIterableIterator<T> {
  #step: (() => Promise<IteratorResult<T, undefined>>) | undefined;

  constructor(step: () => Promise<IteratorResult<T, undefined>>) {
    this.#step = step;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const step = this.#step;
    return step === undefined ? Promise.resolve(DONE) : step();
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.#step = undefined;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * The values of `receive()` until the owner is closed: a receive that fails
 * because it was closed ends the loop cleanly; other errors are thrown.
 */
export function untilClosed<T>(
  receive: () => Promise<T>,
  closed: () => boolean,
): AsyncIterableIterator<T> {
  return iterate<T>(() =>
    closed() ? Promise.resolve(DONE) : receive().then(
      (value): IteratorResult<T, undefined> => ({ value, done: false }),
      (error) => {
        if (closed()) return DONE;
        throw error;
      },
    )
  );
}
