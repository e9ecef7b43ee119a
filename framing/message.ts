/**
 * `message()`: a JSON header and a body, the "header dict + file content"
 * protocol of file transfer. The JSON object carries the body's length in
 * `size`:
 *
 * ```text
 * INPUT
 * +-- hlen: u32be --+---- header: UTF-8 JSON ----+---- body ----+
 * | 00 00 00 0a     | {"size":3}                 | a b c        |
 * +-----------------+----------------------------+--------------+
 * DECODED: { header: { size: 3 }, body: "abc" }
 * ```
 *
 * The Python tutorials' upload, `struct.pack("i", len(head))` then
 * `{"filename": ..., "filesize": ...}` then the file, is
 * `message({ littleEndian: true, sizeKey: "filesize" })`:
 *
 * ```text
 * INPUT
 * +-- hlen: u32le --+---- header: UTF-8 JSON -------------+---- body ----+
 * | 21 00 00 00     | {"filename":"a.txt","filesize":3}   | a b c        |
 * +-----------------+-------------------------------------+--------------+
 * DECODED: { header: { filename: "a.txt", filesize: 3 }, body: "abc" }
 * ```
 *
 * @module
 */

import { FrameError } from "../errors.ts";
import {
  BuiltinCodec,
  type DecodeState,
  type Framing,
  kindOf,
  utf8Encoder,
} from "./types.ts";
import {
  checkLimit,
  DEFAULT_MAX_FRAME_BYTES,
  lengthHint,
  payloadLength,
  peerHint,
  tooLarge,
} from "./_limits.ts";
import { type LengthHeader, lengthHeader } from "../bytes/uint.ts";
import { KiB } from "../bytes/sizes.ts";

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** One message of the {@linkcode message} framing. */
export interface Message {
  /** A JSON object; its `size` (or the `sizeKey` chosen) is the body's length. */
  header: Record<string, unknown>;
  /** The body bytes. */
  body: Uint8Array;
}

/** Options for {@linkcode message}. */
export interface MessageOptions {
  /**
   * Byte order of the 4-byte header length: `true` for a peer that writes it
   * with Python's `struct.pack("i", n)` (native order) on x86 or ARM.
   * @default {false}
   */
  littleEndian?: boolean;
  /**
   * Largest JSON header accepted, in bytes.
   * @default {65536}
   */
  maxHeaderBytes?: number;
  /**
   * Largest body accepted, in bytes; larger bodies are streamed (see
   * {@linkcode MessageFraming.head}).
   * @default {16777216}
   */
  maxBodyBytes?: number;
  /**
   * The JSON key that carries the body's length: read by `decode`, written
   * by `encode` (that key only), and required by `head`. `"filesize"`
   * speaks the Python tutorials' upload protocol.
   * @default {"size"}
   */
  sizeKey?: string;
}

/** The {@linkcode message} framing, plus a framing of the header alone. */
export interface MessageFraming extends Framing<Message> {
  /**
   * Frames only the length and JSON header of a message, for bodies too large
   * to hold in memory: send the head, then stream `size` bytes of body; on
   * the other side decode the head, then read `header.size` bytes. `encode`
   * takes a header whose `size` (the `sizeKey`) is set; `maxBodyBytes` does
   * not apply.
   */
  readonly head: Framing<Record<string, unknown>>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Shared by `message()` and its `head`: [u32 length][UTF-8 JSON object]. */
class JsonHead {
  /** The JSON key of the body's length. */
  readonly sizeKey: string;
  /** The u32 before the JSON: its byte order, reader and writer. */
  readonly #headerLength: LengthHeader;
  readonly #maxHeaderBytes: number;

  constructor(littleEndian: boolean, maxHeaderBytes: number, sizeKey: string) {
    this.sizeKey = sizeKey;
    this.#headerLength = lengthHeader({ littleEndian });
    this.#maxHeaderBytes = maxHeaderBytes;
  }

  /**
   * The JSON bytes of `header` with its size key set to `size`; checks the
   * header limit. The header is serialised as `JSON.stringify` would (its
   * `toJSON`, its own enumerable properties, getters among them), and the
   * size key is set on what that gives, after any `toJSON`: whatever the
   * object says, the size on the wire is `size`, so a header cannot announce
   * a body other than the one sent (a shorter one would make the rest of the
   * body read as further frames).
   */
  encodeJson(header: Record<string, unknown>, size: number): Uint8Array {
    if (!isPlainObject(header)) {
      throw new TypeError(
        "Cannot encode message: the header must be an object",
      );
    }
    // As JSON.stringify: the header's toJSON (own or inherited) first, once.
    const toJSON = header.toJSON;
    const root: unknown = typeof toJSON === "function"
      ? toJSON.call(header, "")
      : header;
    if (!isPlainObject(root)) {
      throw new TypeError(
        `Cannot encode message: the header must serialise to a JSON object, but its toJSON() returned ${
          kindOf(root)
        }`,
      );
    }
    const fields: Record<string, unknown> = {
      ...root,
      [this.sizeKey]: size,
    };
    // A toJSON the copy kept would be called again: JSON.stringify calls it
    // once, and a function is never written anyway.
    if (typeof fields.toJSON === "function") delete fields.toJSON;
    const text = JSON.stringify(fields);
    const json = utf8Encoder.encode(text);
    if (json.length > this.#maxHeaderBytes) {
      throw tooLarge(
        "encode message header",
        json.length,
        this.#maxHeaderBytes,
      );
    }
    return json;
  }

  writeJson(json: Uint8Array, target: Uint8Array, offset: number): number {
    this.#headerLength.write(target, offset, json.length);
    target.set(json, offset + 4);
    return 4 + json.length;
  }

  /** The header at `offset` and where it ends, or null; validates its size. */
  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Record<string, unknown>; next: number } | null {
    if (bytes.length - offset < 4) return null;
    const length = this.#headerLength.read(bytes, offset);
    if (length > this.#maxHeaderBytes) {
      throw tooLarge(
        "decode message: header length announces",
        length,
        this.#maxHeaderBytes,
        lengthHint(
          bytes,
          offset,
          this.#headerLength.littleEndian,
          this.#maxHeaderBytes,
        ),
      );
    }
    const end = offset + 4 + length;
    if (end > bytes.length) {
      if (state) state.need = 4 + length;
      return null;
    }
    let header: unknown;
    try {
      header = JSON.parse(utf8Decoder.decode(bytes.subarray(offset + 4, end)));
    } catch (error) {
      throw new FrameError(
        "BAD_HEADER",
        `Cannot decode message: the header is not valid UTF-8 JSON (${
          (error as Error).message
        })${peerHint(bytes, offset)}`,
        { cause: error },
      );
    }
    if (!isPlainObject(header)) {
      throw new FrameError(
        "BAD_HEADER",
        `Cannot decode message: the header must be a JSON object, got ${
          Array.isArray(header) ? "an array" : String(header)
        }`,
      );
    }
    const size = header[this.sizeKey];
    if (!isSize(size)) {
      throw new FrameError(
        "BAD_HEADER",
        `Cannot decode message: ${
          JSON.stringify(this.sizeKey)
        } must be a non-negative safe integer, got ${JSON.stringify(size)}`,
      );
    }
    return { value: header, next: end };
  }
}

class MessageHeadFraming extends BuiltinCodec<Record<string, unknown>> {
  readonly #head: JsonHead;
  /** The JSON `measure` made, for the `write` that follows it. */
  #json: Uint8Array | undefined;

  constructor(head: JsonHead) {
    super();
    this.#head = head;
  }

  measure(header: Record<string, unknown>): number {
    const key = this.#head.sizeKey;
    const size = header?.[key];
    if (!isSize(size)) {
      throw new TypeError(
        `Cannot encode message head: ${
          JSON.stringify(key)
        } must be a non-negative safe integer, got ${size}`,
      );
    }
    this.#json = this.#head.encodeJson(header, size);
    return 4 + this.#json.length;
  }

  write(
    header: Record<string, unknown>,
    target: Uint8Array,
    offset: number,
  ): void {
    const json = this.#json ??
      this.#head.encodeJson(header, header[this.#head.sizeKey] as number);
    this.#head.writeJson(json, target, offset);
    this.#json = undefined;
  }

  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Record<string, unknown>; next: number } | null {
    return this.#head.decode(bytes, offset, state);
  }
}

class MessageFramingImpl extends BuiltinCodec<Message>
  implements MessageFraming {
  readonly head: Framing<Record<string, unknown>>;
  readonly #json: JsonHead;
  readonly #maxBodyBytes: number;
  /** The JSON `measure` made, for the `write` that follows it. */
  #pending: Uint8Array | undefined;

  constructor(options: MessageOptions) {
    super();
    const sizeKey = options.sizeKey ?? "size";
    if (typeof sizeKey !== "string" || sizeKey === "") {
      throw new TypeError(
        `Cannot create framing: sizeKey must be a non-empty string, got ${
          sizeKey === "" ? '""' : kindOf(sizeKey)
        }`,
      );
    }
    this.#json = new JsonHead(
      options.littleEndian ?? false,
      checkLimit("maxHeaderBytes", options.maxHeaderBytes ?? 64 * KiB),
      sizeKey,
    );
    this.#maxBodyBytes = checkLimit(
      "maxBodyBytes",
      options.maxBodyBytes ?? DEFAULT_MAX_FRAME_BYTES,
    );
    this.head = new MessageHeadFraming(this.#json);
  }

  measure(message: Message): number {
    const size = payloadLength(
      message?.body,
      "message body",
      this.#maxBodyBytes,
    );
    this.#pending = this.#json.encodeJson(message.header, size);
    return 4 + this.#pending.length + size;
  }

  write(message: Message, target: Uint8Array, offset: number): void {
    const json = this.#pending ??
      this.#json.encodeJson(message.header, message.body.length);
    const at = this.#json.writeJson(json, target, offset);
    target.set(message.body, offset + at);
    this.#pending = undefined;
  }

  decode(
    bytes: Uint8Array,
    offset: number,
    state?: DecodeState,
  ): { value: Message; next: number } | null {
    const head = this.#json.decode(bytes, offset, state);
    if (head === null) return null;
    const size = head.value[this.#json.sizeKey] as number;
    if (size > this.#maxBodyBytes) {
      throw tooLarge(
        "decode message: header announces a body of",
        size,
        this.#maxBodyBytes,
      );
    }
    const end = head.next + size;
    if (end > bytes.length) {
      if (state) state.need = end - offset;
      return null;
    }
    return {
      value: { header: head.value, body: bytes.subarray(head.next, end) },
      next: end,
    };
  }
}

/**
 * A framing of messages made of a JSON header and a body: the "header dict +
 * file content" protocol of file transfer. `encode` sets the header's `size`
 * from the body; the decoded header keeps it.
 *
 * What `encode` writes is what `decode` gives back: the header is serialised
 * as `JSON.stringify` would serialise it (its `toJSON`, its own enumerable
 * properties and getters; a class instance's prototype getters are not
 * written), and then `size` is set to the body's length, replacing whatever
 * the header, its getters or its `toJSON` said. So a header cannot announce
 * a shorter body and smuggle the rest of the body in as further frames. A
 * header whose `toJSON` returns something other than an object (a `Date`, a
 * string, an array) is a `TypeError`, as is a header that is not an object.
 *
 * A header that is not UTF-8 JSON, not an object, or has a `size` that is not
 * a non-negative safe integer is `BAD_HEADER`; a `size` over `maxBodyBytes`
 * is `FRAME_TOO_LARGE`, thrown before the body arrives. A header length over
 * `maxHeaderBytes` is `FRAME_TOO_LARGE` too; when it would fit read in the
 * other byte order, the message says so (a peer packing the length with
 * Python's `struct.pack("i", n)` needs `littleEndian: true`).
 *
 * @param options Byte order of the header length, the limits, and the key of
 * the body's length.
 * @returns The framing, with `head` for streaming bodies.
 * @throws {RangeError} A limit is not a non-negative safe integer.
 * @throws {TypeError} `sizeKey` is not a non-empty string.
 *
 * @example The size on the wire is the body's, whatever the header says
 * ```ts
 * import { FrameDecoder, message } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const framing = message();
 * const header = { name: "a.txt", toJSON: () => ({ name: "a.txt", size: 3 }) };
 * const bytes = framing.encode({ header, body: new Uint8Array(10) });
 * const decoded = new FrameDecoder(framing).push(bytes);
 * assertEquals(decoded.length, 1); // one message, not a 3-byte one and junk
 * assertEquals(decoded[0].header, { name: "a.txt", size: 10 });
 * assertEquals(decoded[0].body.length, 10);
 * ```
 *
 * @example A file name and its content
 * ```ts
 * import { message } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const framing = message();
 * const bytes = framing.encode({
 *   header: { name: "a.txt" },
 *   body: new TextEncoder().encode("hi"),
 * });
 * const decoded = framing.decode(bytes, 0);
 * assertEquals(decoded?.value.header, { name: "a.txt", size: 2 });
 * assertEquals(new TextDecoder().decode(decoded?.value.body), "hi");
 * ```
 *
 * @example The Python tutorials' upload: `struct.pack("i")` and `filesize`
 * ```ts
 * import { message } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const upload = message({ littleEndian: true, sizeKey: "filesize" });
 * const bytes = upload.encode({
 *   header: { filename: "a.txt" },
 *   body: new TextEncoder().encode("abc"),
 * });
 * // struct.pack("i", 33): the header's length, little-endian.
 * assertEquals([...bytes.subarray(0, 4)], [33, 0, 0, 0]);
 * assertEquals(
 *   new TextDecoder().decode(bytes.subarray(4, 37)),
 *   '{"filename":"a.txt","filesize":3}',
 * );
 * assertEquals(upload.decode(bytes, 0)?.value.header.filesize, 3);
 * ```
 */
export function message(options: MessageOptions = {}): MessageFraming {
  return new MessageFramingImpl(options);
}
