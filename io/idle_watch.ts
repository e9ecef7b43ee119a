// The socket's idle timer: notices a connection on which no read or write to
// the runtime has completed for a while. `serve`'s idleTimeout and the bound
// on close()'s last flush both use it.
//
// The runtime reports a write only once the kernel's send buffer is a third
// free, which takes seconds for a slow but steady reader (a 4 MiB buffer at
// 640 KiB/s: ~2 s) although bytes leave all the time. So while a write is in
// flight, the connection counts as stalled only after WRITE_IN_FLIGHT_FACTOR
// times as long.

const WRITE_IN_FLIGHT_FACTOR = 4;

/**
 * Calls back once a connection has made no progress (a read or write to the
 * runtime completed) for a given time; a write in flight stretches it.
 */
export class IdleWatch {
  readonly #writer: { readonly writing: boolean };
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param writer Says whether a write to the runtime is in flight. */
  constructor(writer: { readonly writing: boolean }) {
    this.#writer = writer;
  }

  /** Records progress: a read or write completed. */
  progress(): void {
    if (this.#timer !== undefined) this.#last = Date.now();
  }

  /** Calls `onStall` once no progress has been made for `ms`. */
  start(ms: number, onStall: () => void): void {
    this.stop();
    this.#last = Date.now();
    const check = (delay: number) => {
      this.#timer = setTimeout(() => {
        const quiet = Date.now() - this.#last;
        const allowed = this.#writer.writing ? ms * WRITE_IN_FLIGHT_FACTOR : ms;
        if (quiet < allowed) return check(allowed - quiet);
        this.#timer = undefined;
        onStall();
      }, delay);
    };
    check(ms);
  }

  /** Stops watching. */
  stop(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
