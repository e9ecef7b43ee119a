// The one seeded pseudo-random generator of the tests, the fuzzer and the
// benchmarks, and the helpers that derive, print and parse its seeds. Every
// random choice a test makes comes from a seed it names, so a failure can be
// replayed exactly.

/**
 * A 32-bit integer hash (murmur3's finaliser); spreads nearby seeds apart.
 *
 * @param value Any number; only its low 32 bits count.
 * @returns An unsigned 32-bit integer.
 *
 * @example Basic usage
 * ```ts
 * import { mix32 } from "./random.ts";
 * import { assertNotEquals } from "./assert.ts";
 *
 * assertNotEquals(mix32(1), mix32(2));
 * ```
 */
export function mix32(value: number): number {
  let x = (value + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The seed of case `index` of a run seeded with `seed`: each case can be
 * replayed alone from it.
 *
 * @param seed The run's seed.
 * @param index The case's number in the run.
 * @returns An unsigned 32-bit integer.
 *
 * @example Basic usage
 * ```ts
 * import { caseSeed } from "./random.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * assertEquals(caseSeed(7, 3), caseSeed(7, 3));
 * ```
 */
export function caseSeed(seed: number, index: number): number {
  return mix32((seed ^ mix32(index)) >>> 0);
}

/**
 * `0x`-prefixed, 8-digit hex of a 32-bit seed, the form failures print.
 *
 * @param value The seed.
 * @returns For example `"0x0000002a"`.
 *
 * @example Basic usage
 * ```ts
 * import { hex32 } from "./random.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * assertEquals(hex32(42), "0x0000002a");
 * ```
 */
export function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}

/**
 * A seed as a user types it (`--seed 0x1234abcd`, `FUZZ_SEED=42`).
 *
 * @param text Decimal or `0x` hexadecimal.
 * @returns The seed as an unsigned 32-bit integer.
 * @throws {RangeError} When `text` is not an integer.
 *
 * @example Basic usage
 * ```ts
 * import { hex32, parseSeed } from "./random.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * assertEquals(parseSeed("0x1234abcd"), 0x1234abcd);
 * assertEquals(parseSeed(hex32(7)), 7);
 * ```
 */
export function parseSeed(text: string): number {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isInteger(value)) {
    throw new RangeError(
      `Cannot use seed ${
        JSON.stringify(text)
      }: expected an integer (decimal or 0x hex)`,
    );
  }
  return value >>> 0;
}

/**
 * A fresh random 32-bit seed, for runs meant to explore (`deno task fuzz`).
 * Print it before using it.
 *
 * @returns An unsigned 32-bit integer.
 *
 * @example Basic usage
 * ```ts
 * import { randomSeed } from "./random.ts";
 * import { assert } from "./assert.ts";
 *
 * const seed = randomSeed();
 * assert(seed >= 0 && seed < 2 ** 32);
 * ```
 */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/**
 * sfc32: a small, fast generator, good enough to drive tests and a fuzzer
 * reproducibly. The same seed gives the same sequence on every machine.
 *
 * @example Basic usage
 * ```ts
 * import { Rng } from "./random.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * const a = new Rng(42);
 * const b = new Rng(42);
 * assertEquals(a.bytes(16), b.bytes(16));
 * const n = a.int(10); // in [0, 10)
 * assertEquals(n, b.int(10));
 * ```
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d = 1;

  /**
   * A generator seeded with `seed`.
   *
   * @param seed Any number; only its low 32 bits count.
   */
  constructor(seed: number) {
    this.#a = mix32(seed);
    this.#b = mix32(this.#a ^ 0x1234567);
    this.#c = mix32(this.#b ^ 0x7654321);
    for (let i = 0; i < 12; i++) this.u32();
  }

  /**
   * The next uniform 32-bit unsigned integer.
   *
   * @returns An integer in [0, 2^32).
   */
  u32(): number {
    const t0 = (this.#a + this.#b) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#d = (this.#d + 1) | 0;
    const t = (t0 + this.#d) | 0;
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /**
   * A uniform float.
   *
   * @returns A number in [0, 1).
   */
  float(): number {
    return this.u32() / 4294967296;
  }

  /**
   * A uniform integer below `n`.
   *
   * @param n The bound (exclusive), at least 1.
   * @returns An integer in [0, n).
   */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /**
   * A uniform integer between `lo` and `hi`, both included.
   *
   * @param lo The smallest result.
   * @param hi The largest result.
   * @returns An integer in [lo, hi].
   */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /**
   * True with probability `p`.
   *
   * @param p A probability in [0, 1].
   * @returns A boolean.
   */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /**
   * One of `items`, uniformly.
   *
   * @typeParam T The items' type.
   * @param items A non-empty list.
   * @returns One of its elements.
   */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /**
   * `n` random bytes, drawn from `alphabet` when one is given.
   *
   * @param n How many bytes.
   * @param alphabet The bytes to choose from (all 256 when absent or empty).
   * @returns A new array.
   */
  bytes(n: number, alphabet?: Uint8Array): Uint8Array {
    const out = new Uint8Array(n);
    if (alphabet && alphabet.length > 0) {
      for (let i = 0; i < n; i++) out[i] = alphabet[this.int(alphabet.length)];
    } else {
      for (let i = 0; i < n; i += 4) {
        const word = this.u32();
        for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = word >>> (8 * k);
      }
    }
    return out;
  }

  /**
   * A length in [0, max], skewed small, sometimes exactly `max`: the sizes
   * that find framing bugs (empty, a few bytes, at the limit).
   *
   * @param max The largest length.
   * @returns An integer in [0, max].
   */
  length(max: number): number {
    const cap = Math.min(max, 1 << 16);
    const r = this.float();
    if (r < 0.1) return 0;
    if (r < 0.45) return Math.min(cap, this.range(1, 8));
    if (r < 0.7) return Math.min(cap, this.range(1, 64));
    if (r < 0.9) return Math.min(cap, this.range(1, 1024));
    if (r < 0.95) return this.range(0, cap);
    return max <= 1 << 16 ? max : this.range(0, Math.min(cap, 4096));
  }
}
