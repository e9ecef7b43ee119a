// A progress bar for send and receive: bytes, rate and time left, redrawn in
// place on stdout at most ten times a second, and only when stdout is a
// terminal (nothing at all when it is piped).

const encoder = new TextEncoder();

/** Bytes in binary units: "1.5 MiB". */
export function bytesText(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  for (; n >= 1024 && unit < units.length - 1; unit++) n /= 1024;
  return `${unit === 0 ? n : n.toFixed(1)} ${units[unit]}`;
}

/** Seconds as "1m05s" or "12s". */
export function durationText(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.ceil(seconds);
  return s >= 60
    ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
    : `${s}s`;
}

/** One line of the bar, for `done` of `total` bytes after `seconds`. */
export function progressLine(
  label: string,
  done: number,
  total: number,
  seconds: number,
): string {
  const fraction = total === 0 ? 1 : done / total;
  const filled = Math.round(fraction * 20);
  const rate = seconds > 0 ? done / seconds : 0;
  const left = rate > 0 ? (total - done) / rate : Infinity;
  return `${label} [${"#".repeat(filled)}${" ".repeat(20 - filled)}] ${
    Math.floor(fraction * 100)
  }% ${bytesText(done)}/${bytesText(total)} ${bytesText(rate)}/s ${
    done >= total ? "done" : `${durationText(left)} left`
  }`;
}

/** The bar for one transfer. */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #enabled: boolean;
  readonly #start = performance.now();
  #last = -Infinity;
  #drawn = false;

  constructor(
    label: string,
    total: number,
    enabled = Deno.stdout.isTerminal(),
  ) {
    this.#label = label;
    this.#total = total;
    this.#enabled = enabled;
  }

  /** Redraws with `done` bytes, unless it did less than 100 ms ago. */
  update(done: number): void {
    const now = performance.now();
    if (!this.#enabled || (now - this.#last < 100 && done < this.#total)) {
      return;
    }
    this.#last = now;
    this.#drawn = true;
    const line = progressLine(
      this.#label,
      done,
      this.#total,
      (now - this.#start) / 1000,
    );
    Deno.stdout.writeSync(encoder.encode(`\r${line}\x1b[K`));
  }

  /** Ends the line the bar was drawn on. */
  end(): void {
    if (!this.#enabled || !this.#drawn) return;
    Deno.stdout.writeSync(encoder.encode("\n"));
  }
}
