// How frames print (--format text|hex|json|base64), how stdin's lines become
// frames in the same formats, and the short previews the logs show.

import type { Message } from "../mod.ts";
import { UsageError } from "./args.ts";

export type Format = "text" | "hex" | "json" | "base64";
/** A frame: bytes, or a message's header and body. */
export type Frame = Uint8Array | Message;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export function isMessage(frame: Frame): frame is Message {
  return !(frame instanceof Uint8Array);
}

export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text.trim());
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) {
    throw new TypeError(`not hex: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return Uint8Array.from(
    { length: digits.length / 2 },
    (_, i) => parseInt(digits.slice(2 * i, 2 * i + 2), 16),
  );
}

/** The text of `bytes` if they are UTF-8, else undefined. */
export function textOf(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** `{ text }` when the bytes are UTF-8, else `{ base64 }`: how JSON carries bytes. */
export function bytesToJson(
  bytes: Uint8Array,
): { text: string } | { base64: string } {
  const text = textOf(bytes);
  return text === undefined ? { base64: base64(bytes) } : { text };
}

/** The bytes `bytesToJson` wrote. */
export function bytesFromJson(value: Record<string, unknown>): Uint8Array {
  if (typeof value.text === "string") return encoder.encode(value.text);
  if (typeof value.base64 === "string") return fromBase64(value.base64);
  throw new TypeError("a frame needs text or base64");
}

/** At most `max` bytes as printable text: escapes for the rest, "…" if cut. */
export function preview(bytes: Uint8Array, max = 40): string {
  const shown = utf8.decode(bytes.subarray(0, max));
  const escaped = JSON.stringify(shown).slice(1, -1);
  return `"${escaped}"${bytes.length > max ? "…" : ""}`;
}

/** A line for a frame in `format` (without the newline). */
export function formatFrame(frame: Frame, format: Format): string {
  if (isMessage(frame)) {
    const body = format === "hex"
      ? { hex: hex(frame.body) }
      : format === "base64"
      ? { base64: base64(frame.body) }
      : bytesToJson(frame.body);
    const { text, ...rest } = body as { text?: string };
    return JSON.stringify({
      header: frame.header,
      ...(text === undefined ? rest : { body: text }),
    });
  }
  switch (format) {
    case "text":
      return utf8.decode(frame);
    case "hex":
      return hex(frame);
    case "base64":
      return base64(frame);
    case "json":
      return JSON.stringify({ length: frame.length, ...bytesToJson(frame) });
  }
}

/**
 * The frame a line of stdin stands for, read as `format` says. For message,
 * a JSON line `{"header":{...},"body":"..."}` (body text, or `base64`), or
 * any other line as the body of a message with an empty header.
 *
 * @throws {UsageError} The line is not in that format.
 */
export function parseInput(
  line: string,
  format: Format,
  message: boolean,
): Frame {
  try {
    if (message) {
      if (line.trimStart().startsWith("{")) {
        const value = JSON.parse(line) as Record<string, unknown>;
        const header = (value.header ?? {}) as Record<string, unknown>;
        const body = typeof value.body === "string"
          ? encoder.encode(value.body)
          : typeof value.base64 === "string"
          ? fromBase64(value.base64)
          : new Uint8Array(0);
        return { header, body };
      }
      return {
        header: {},
        body: parseInput(line, format, false) as Uint8Array,
      };
    }
    switch (format) {
      case "text":
        return encoder.encode(line);
      case "hex":
        return fromHex(line);
      case "base64":
        return fromBase64(line);
      case "json": {
        const value = JSON.parse(line);
        if (typeof value === "string") return encoder.encode(value);
        return bytesFromJson(value);
      }
    }
  } catch (error) {
    throw new UsageError(
      `stdin's line is not ${format}: ${(error as Error).message}`,
    );
  }
}
