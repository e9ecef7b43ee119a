// Web Streams over the codecs: DecoderStream (bytes in, values out) and
// EncoderStream (values in, bytes out), for `pipeThrough`.

import { FrameDecoder } from "./decoder.ts";
import type { Framing } from "./types.ts";

/**
 * A `TransformStream` from byte chunks to decoded values: pipe a socket's or
 * file's `readable` through it. Ending inside a frame errors the stream with
 * `INCOMPLETE_FRAME`; as with any Web Stream error, values still queued and
 * not yet read are discarded with it. Where every value before a truncated
 * end matters, drive a {@linkcode FrameDecoder} directly.
 *
 * @typeParam T The type of the values framed.
 *
 * @example Decoding a stream of frames
 * ```ts
 * import { DecoderStream, encodeFrame, lengthPrefixed } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const bytes = encodeFrame(new Uint8Array([1, 2]));
 * const frames = await Array.fromAsync(
 *   ReadableStream.from([bytes.subarray(0, 3), bytes.subarray(3)])
 *     .pipeThrough(new DecoderStream(lengthPrefixed())),
 * );
 * assertEquals(frames.map((f) => [...f]), [[1, 2]]);
 * ```
 */
export class DecoderStream<T> extends TransformStream<Uint8Array, T> {
  /**
   * Creates the stream.
   *
   * @param framing The codec to find values with.
   */
  constructor(framing: Framing<T>) {
    const decoder = new FrameDecoder(framing);
    super({
      transform(chunk, controller) {
        for (const value of decoder.push(chunk)) controller.enqueue(value);
      },
      flush() {
        decoder.end();
      },
    });
  }
}

/**
 * A `TransformStream` from values to their encoded frames: pipe it into a
 * socket's or file's `writable`.
 *
 * @typeParam T The type of the values framed.
 *
 * @example Encoding lines
 * ```ts
 * import { delimited, EncoderStream } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const chunks = await Array.fromAsync(
 *   ReadableStream.from([new Uint8Array([104, 105])])
 *     .pipeThrough(new EncoderStream(delimited())),
 * );
 * assertEquals(new TextDecoder().decode(chunks[0]), "hi\n");
 * ```
 */
export class EncoderStream<T> extends TransformStream<T, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param framing The codec to encode values with.
   */
  constructor(framing: Framing<T>) {
    super({
      transform(value, controller) {
        controller.enqueue(framing.encode(value));
      },
    });
  }
}
