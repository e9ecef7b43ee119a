// Web Streams over the codecs: DecoderStream (bytes in, values out) and
// EncoderStream (values in, bytes out), for `pipeThrough`.
//
// Two things the Streams standard does not do for us:
//
// - Erroring a stream discards the values still queued for its reader (there
//   is no "error after drain": whatwg/streams#172). So an error waits until
//   the reader has taken every value queued before it (`failAfterDrain`).
// - A TransformStream calls `transform` only while its reader waits for a
//   chunk, one written value at a time; values written meanwhile queue on the
//   writable side. EncoderStream counts them as they are written (its
//   writable side's `size`), so it knows when the last of a burst is being
//   transformed: the frames of the whole burst leave as one chunk, and a
//   frame written to an idle stream leaves at once. No timers.

import { endInto, FrameDecoder, pushInto } from "./decoder.ts";
import { codecOf, encodeChecked, type Framing } from "./types.ts";
import { EMPTY, KiB, MiB } from "../bytes/sizes.ts";

/**
 * A `TransformStream` from byte chunks to decoded values: pipe a socket's or
 * file's `readable` through it. Values decoded from one chunk are views into
 * it. Cost is linear in the bytes, however the stream is cut into chunks.
 *
 * When the stream ends inside a frame, the reader first gets every complete
 * value, then the error `FrameError("INCOMPLETE_FRAME")`; a malformed frame
 * (`BAD_HEADER`, `FRAME_TOO_LARGE`) likewise errors the stream once every
 * value before it, in its chunk too, is read. The error waits for the reader: stop
 * reading by cancelling the stream (breaking out of `for await` does).
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
 *
 * @example A stream cut short: the complete frames, then the error
 * ```ts
 * import {
 *   DecoderStream,
 *   encodeFrame,
 *   FrameError,
 *   lengthPrefixed,
 * } from "@wire/socket";
 * import { assertEquals, assertRejects } from "@std/assert";
 *
 * const whole = [encodeFrame(new Uint8Array([1])), encodeFrame(new Uint8Array([2]))];
 * const cut = new Uint8Array([0, 0]); // the start of a third header
 * const reader = ReadableStream.from([new Uint8Array([...whole[0], ...whole[1], ...cut])])
 *   .pipeThrough(new DecoderStream(lengthPrefixed()))
 *   .getReader();
 * assertEquals([...(await reader.read()).value!], [1]);
 * assertEquals([...(await reader.read()).value!], [2]);
 * const error = await assertRejects(() => reader.read(), FrameError);
 * assertEquals(error.code, "INCOMPLETE_FRAME");
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
        const values: T[] = [];
        let failure: unknown;
        try {
          pushInto(decoder, chunk, values);
        } catch (error) {
          failure = error;
        }
        // Every value before a malformed frame is delivered, then the error.
        for (let i = 0; i < values.length; i++) controller.enqueue(values[i]);
        if (failure !== undefined) return failAfterDrain(controller, failure);
      },
      flush(controller) {
        const values: T[] = [];
        let failure: unknown;
        try {
          endInto(decoder, values);
        } catch (error) {
          failure = error;
        }
        // The values of the stream's last bytes (the framing's decodeEnd).
        for (let i = 0; i < values.length; i++) controller.enqueue(values[i]);
        if (failure !== undefined) return failAfterDrain(controller, failure);
      },
    });
  }
}

/**
 * The most bytes of frames one chunk gathers (a larger frame is a chunk of
 * its own): the socket writer's largest write too.
 */
const CHUNK_BYTES = 256 * KiB;
/**
 * About how many bytes of values the writable side holds while the readable
 * side is not read, before writers wait (`writer.ready`, `pipeTo`): a
 * socket's default write buffer. Less makes more, smaller chunks, and fewer
 * frames a second (BENCHMARKS.md, "Figures behind the constants").
 */
const WRITABLE_HIGH_WATER = MiB;
/** What a value counts toward WRITABLE_HIGH_WATER beyond its bytes: about a header. */
const FRAME_OVERHEAD = 16;
/** What a value without bytes of its own counts. */
const OTHER_VALUE = KiB;

/**
 * A `TransformStream` from values to their encoded frames: pipe it into a
 * socket's or file's `writable`.
 *
 * It coalesces: frames written while the reader (the downstream) is busy
 * leave together as one chunk (up to 256 KiB, or one larger frame), so
 * `values.pipeThrough(new EncoderStream(f)).pipeTo(conn.writable)` makes one
 * write per batch, not one per frame. A value written while the reader
 * waits leaves at once, alone. The writable side holds about 1 MiB of
 * values (counted by their bytes) before writers wait. Frames keep their
 * order. A value the framing cannot encode errors the stream, after the
 * frames of the values before it have been read.
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
 *
 * @example Frames written meanwhile leave as one chunk
 * ```ts
 * import { EncoderStream, lengthPrefixed } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const stream = new EncoderStream(lengthPrefixed());
 * const writer = stream.writable.getWriter();
 * for (const byte of [1, 2, 3]) writer.write(new Uint8Array([byte]));
 * writer.close();
 * const chunks = await Array.fromAsync(stream.readable);
 * assertEquals(chunks.map((chunk) => [...chunk]), [
 *   [0, 0, 0, 1, 1, 0, 0, 0, 1, 2, 0, 0, 0, 1, 3],
 * ]);
 * ```
 */
export class EncoderStream<T> extends TransformStream<T, Uint8Array> {
  /**
   * Creates the stream.
   *
   * @param framing The codec to encode values with.
   */
  constructor(framing: Framing<T>) {
    const codec = codecOf(framing);
    /** Values written and not yet transformed, and what they weigh. */
    let queued = 0;
    let queuedWeight = 0;
    /** The chunk being gathered: `open[0, length)`. */
    let open = EMPTY;
    let length = 0;

    const emit = (controller: TransformStreamDefaultController<Uint8Array>) => {
      if (length === 0) return;
      controller.enqueue(
        length === open.length ? open : open.subarray(0, length),
      );
      open = EMPTY;
      length = 0;
    };
    /** `open` with room for `n` more bytes at `length`, after emitting a full chunk. */
    const room = (
      n: number,
      controller: TransformStreamDefaultController<Uint8Array>,
    ) => {
      if (length + n <= open.length) return open;
      if (length > 0 && length + n > CHUNK_BYTES) emit(controller);
      // Sized for the values still queued, so a burst is usually one exact
      // allocation; doubled when the estimate falls short.
      const want = length + n + queuedWeight;
      const capacity = Math.max(
        length + n,
        Math.min(CHUNK_BYTES, Math.max(want, 2 * open.length)),
      );
      const grown = new Uint8Array(capacity);
      if (length > 0) grown.set(open.subarray(0, length));
      open = grown;
      return open;
    };

    super({
      transform(value, controller) {
        if (queued > 0) {
          queued--;
          queuedWeight -= weight(value);
        }
        try {
          if (codec !== undefined) {
            const n = codec.measure(value);
            codec.write(value, room(n, controller), length);
            length += n;
          } else {
            const bytes = encodeChecked(framing, value);
            if (length === 0 && queued === 0) {
              controller.enqueue(bytes); // alone: no copy
              return;
            }
            room(bytes.length, controller).set(bytes, length);
            length += bytes.length;
          }
        } catch (error) {
          emit(controller);
          return failAfterDrain(controller, error);
        }
        // The last value of the burst, or a full chunk: it leaves.
        if (queued === 0 || length >= CHUNK_BYTES) emit(controller);
      },
      flush(controller) {
        emit(controller);
      },
    }, {
      highWaterMark: WRITABLE_HIGH_WATER,
      // Called as each value is written, before it is queued.
      size(value) {
        const w = weight(value);
        queued++;
        queuedWeight += w;
        return w;
      },
    });
  }
}

/** What a value written to an EncoderStream counts toward its high-water mark. */
function weight(value: unknown): number {
  if (ArrayBuffer.isView(value)) return value.byteLength + FRAME_OVERHEAD;
  // A message(): its body is most of it.
  const body = (value as { body?: unknown } | null | undefined)?.body;
  if (ArrayBuffer.isView(body)) return body.byteLength + OTHER_VALUE;
  return OTHER_VALUE;
}

/** The longest wait between two looks at the reader's queue. */
const MAX_POLL_MS = 50;

/**
 * Errors the stream of `controller` with `error` once its reader has taken
 * every value queued so far (see the file comment). A TransformStream does
 * not tell its transformer when the reader takes a value, so this looks at
 * `desiredSize` on a timer: at once, then less and less often. It runs only
 * on this error path. The readable side's high-water mark is 0, so a
 * negative `desiredSize` means values are queued; the wait also ends when
 * the reader cancels (the readable is then closed: 0) or the stream errors
 * otherwise (`null`).
 */
async function failAfterDrain(
  controller: TransformStreamDefaultController<unknown>,
  error: unknown,
): Promise<never> {
  for (let wait = 0; (controller.desiredSize ?? 0) < 0;) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(MAX_POLL_MS, wait * 2 || 1);
  }
  throw error;
}
