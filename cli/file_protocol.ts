// The pieces of the file-transfer protocol that examples/file_transfer.ts
// and `wire send`/`wire receive` (cli/transfer.ts) share: the upload's head in
// either byte order, the file-name check, the file's SHA-256, and moving a
// received file into place without overwriting one that appeared meanwhile.
// Here, in the published cli/, so that both use one copy (examples/ is not
// published).

import { createHash } from "node:crypto";
import { type Framing, lengthPrefixed } from "../mod.ts";

/** Longest file name accepted, in UTF-8 bytes (file systems allow 255). */
const MAX_NAME_BYTES = 200;
/**
 * Longest JSON header accepted, in bytes: 2^16 - 1, the largest limit under
 * which no 4-byte length but 0 is valid in both byte orders.
 */
const MAX_HEADER_BYTES = 65535;

/**
 * The head of an upload in either protocol, either byte order: a 4-byte
 * length, then that many bytes of JSON (the value). The length is read
 * big-endian unless that is over MAX_HEADER_BYTES and the little-endian
 * reading is not; over the limit both ways, it is big-endian's
 * FRAME_TOO_LARGE. `encode` writes big-endian, as `message()` does.
 */
export const uploadHead: Framing<Uint8Array> = (() => {
  const bigEndian = lengthPrefixed({ maxFrameBytes: MAX_HEADER_BYTES });
  const littleEndian = lengthPrefixed({
    maxFrameBytes: MAX_HEADER_BYTES,
    littleEndian: true,
  });
  return {
    encode: (json: Uint8Array) => bigEndian.encode(json),
    decode(bytes: Uint8Array, offset: number) {
      if (bytes.length - offset < 4) return null;
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 4);
      const little = view.getUint32(0, false) > MAX_HEADER_BYTES &&
        view.getUint32(0, true) <= MAX_HEADER_BYTES;
      return (little ? littleEndian : bigEndian).decode(bytes, offset);
    },
  };
})();

/** Why `name` cannot be used as a file name in the receiver's directory, or undefined. */
export function checkFileName(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "the name is empty";
  if (name === "." || name === "..") {
    return `the name is ${JSON.stringify(name)}`;
  }
  for (const bad of ["/", "\\", "..", "\0"]) {
    if (name.includes(bad)) {
      return `the name ${JSON.stringify(name)} contains ${JSON.stringify(bad)}`;
    }
  }
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

/** The SHA-256 of a file, in hex, read in chunks (Web Crypto cannot stream). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Moves the verified temporary file to `target`. Without `overwrite`, a hard
 * link makes the name appear only if it is still free (atomically), then the
 * temporary name goes; where hard links are not supported, a check and a
 * rename do.
 */
export async function place(
  temp: string,
  target: string,
  overwrite: boolean,
): Promise<{ error: string } | undefined> {
  if (overwrite) {
    await Deno.rename(temp, target);
    return undefined;
  }
  try {
    await Deno.link(temp, target);
    await Deno.remove(temp);
    return undefined;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      return { error: `${target} appeared while it was being received` };
    }
    if (await exists(target)) return { error: `${target} already exists` };
    await Deno.rename(temp, target);
    return undefined;
  }
}

/** The receiver refused or rejected the file. */
export class TransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransferError";
  }
}
