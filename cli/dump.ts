// dump: decodes a capture (a file, or stdin) with a framing and prints each
// frame annotated: offset, length on the wire, header, payload length and a
// preview (or the payload itself in hex or base64, or one JSON object).

import { FrameError, type Framing, parseFraming } from "../mod.ts";
import type { CommandLine } from "./args.ts";
import {
  base64,
  bytesToJson,
  type Format,
  type Frame,
  hex,
  isMessage,
  preview,
} from "./format.ts";
import { writeOut } from "./io.ts";

/** One decoded frame of a capture. */
export interface DumpedFrame {
  /** Where its first byte is. */
  offset: number;
  /** Its bytes on the wire. */
  wireLength: number;
  /** The bytes before the payload (a length field), if any. */
  prefix: Uint8Array;
  value: Frame;
}

/**
 * Every frame in `bytes`, in order, into `frames` (so those before a bad
 * byte are there when it throws).
 *
 * @throws {FrameError} Malformed bytes, or `INCOMPLETE_FRAME` for bytes left
 * at the end (its message says where).
 */
export function dumpFrames(
  bytes: Uint8Array,
  spec: string,
  frames: DumpedFrame[] = [],
): DumpedFrame[] {
  const framing = parseFraming(spec) as Framing<Frame>;
  let offset = 0;
  while (offset < bytes.length) {
    const result = framing.decode(bytes, offset);
    if (result === null) {
      throw new FrameError(
        "INCOMPLETE_FRAME",
        `Cannot decode the capture: ${
          bytes.length - offset
        } bytes at offset ${offset} are not a whole ${spec} frame`,
      );
    }
    const { value, next } = result;
    const payload = isMessage(value) ? value.body : value;
    const start = payload.buffer === bytes.buffer
      ? payload.byteOffset - bytes.byteOffset
      : offset;
    frames.push({
      offset,
      wireLength: next - offset,
      prefix: bytes.subarray(offset, Math.max(offset, Math.min(start, next))),
      value,
    });
    offset = next;
  }
  return frames;
}

function line(frame: DumpedFrame, n: number, format: Format): string {
  const { value, offset, wireLength, prefix } = frame;
  const payload = isMessage(value) ? value.body : value;
  if (format === "json") {
    return JSON.stringify({
      frame: n,
      offset,
      wireLength,
      ...(prefix.length > 0 ? { prefix: hex(prefix) } : {}),
      ...(isMessage(value) ? { header: value.header } : {}),
      length: payload.length,
      ...bytesToJson(payload),
    });
  }
  const header = isMessage(value)
    ? ` header ${JSON.stringify(value.header)}`
    : prefix.length > 0
    ? ` header ${hex(prefix).replace(/(..)(?!$)/g, "$1 ")}`
    : "";
  const shown = format === "hex"
    ? hex(payload)
    : format === "base64"
    ? base64(payload)
    : preview(payload);
  return `#${n} @${offset} ${wireLength} bytes${header} payload ${payload.length} ${shown}`;
}

/** `wire dump --framing SPEC [FILE]`. */
export async function dumpCommand(command: CommandLine): Promise<void> {
  const file = command.args[0];
  const bytes = file === undefined || file === "-"
    ? new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer())
    : await Deno.readFile(file);
  // Frames decoded before a bad byte still print, then the error.
  const frames: DumpedFrame[] = [];
  let failure: unknown;
  try {
    dumpFrames(bytes, command.framing, frames);
  } catch (error) {
    failure = error;
  }
  await writeOut(
    frames.map((f, i) => line(f, i + 1, command.format) + "\n").join(""),
  );
  if (failure !== undefined) throw failure;
}
