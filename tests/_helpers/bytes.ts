// Bytes and text in tests: UTF-8 both ways, hex, sizes. The one place these
// one-liners are defined; every test imports them from here.

export { KiB, MiB } from "../../bytes/sizes.ts";

/** `text` as UTF-8 bytes. */
export const utf8 = (text: string): Uint8Array =>
  new TextEncoder().encode(text);

/** `bytes` decoded as UTF-8. */
export const text = (bytes: Uint8Array): string =>
  new TextDecoder().decode(bytes);

/** `bytes` as lowercase hex digits, two a byte, no separator. */
export const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The bytes of `digits` (hex, two a byte, no separator). */
export const fromHex = (digits: string): Uint8Array =>
  new Uint8Array(digits.match(/../g)!.map((pair) => parseInt(pair, 16)));

/** A Uint8Array of `values`. */
export const bytes = (...values: number[]): Uint8Array =>
  new Uint8Array(values);
