// Web Streams over the codecs: DecoderStream (bytes in, values out) and
// EncoderStream (values in, bytes out), for `pipeThrough`.
//
// Two things the Streams standard does not do for us:
//
// - Erroring a stream discards the values still queued for its reader (there
//   is no "error after drain": whatwg/streams#172). So an error waits until
//   the reader has taken every value queued before it (`failAfterDrain`).
// - A TransformStream calls `transform` only while its reader waits for a
//   chunk, so an awaited write waits for the downstream each time.
//   EncoderStream is instead a buffer with two sides, like the socket's
//   writer: a write is encoded at once and resolves while there is room; a
//   read takes what has gathered. A chunk handed to a waiting read starts a
//   hold for the rest of the turn (one zero-delay timer), so a loop of
//   awaited writes gathers instead of leaving one value per chunk.

import { endInto, FrameDecoder, pushInto } from "./decoder.ts";
import { type Codec, codecOf, encodeChecked, type Framing } from "./types.ts";
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
 * About how many bytes of frames the stream holds while the readable side is
 * not read, before writes wait (`writer.write`, `pipeTo`): a socket's
 * default write buffer. Less makes more, smaller chunks, and fewer frames a
 * second (BENCHMARKS.md, "Figures behind the constants").
 */
const WRITABLE_HIGH_WATER = MiB;
/** The smallest chunk allocated. */
const MIN_CHUNK = 4 * KiB;

/**
 * A stream from values to their encoded frames, buffered like a socket's
 * writer: pipe its `readable` into a socket's or file's `writable`.
 *
 * A value written is encoded into the stream's buffer at once, and the
 * write resolves while the buffer holds under about 1 MiB; above that,
 * writes wait until the reader takes some (that is the backpressure). The
 * readable side hands out everything gathered since its last read as one
 * chunk (up to 256 KiB, or one larger frame). So both shapes batch:
 * `values.pipeThrough(new EncoderStream(f)).pipeTo(conn.writable)`, and a
 * loop of `await writer.write(value)` on the writable side while the
 * readable side is piped into `conn.writable`. A value written while the
 * reader waits on an idle stream leaves at once, alone; values written in
 * the same turn as the last chunk left gather for the next one. Frames keep
 * their order. A value the framing cannot encode errors the stream, after
 * the frames of the values before it have been read.
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
 * @example Awaited writes resolve at once and gather into one chunk
 * ```ts
 * import { EncoderStream, lengthPrefixed } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const stream = new EncoderStream(lengthPrefixed());
 * const writer = stream.writable.getWriter();
 * for (const byte of [1, 2, 3]) await writer.write(new Uint8Array([byte]));
 * await writer.close();
 * const chunks = await Array.fromAsync(stream.readable);
 * assertEquals(chunks.map((chunk) => [...chunk]), [
 *   [0, 0, 0, 1, 1, 0, 0, 0, 1, 2, 0, 0, 0, 1, 3],
 * ]);
 * ```
 */
export class EncoderStream<T> implements TransformStream<T, Uint8Array> {
  /** The encoded frames, gathered into chunks. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Where values go; a write resolves once encoded while there is room. */
  readonly writable: WritableStream<T>;

  /**
   * Creates the stream.
   *
   * @param framing The codec to encode values with.
   */
  constructor(framing: Framing<T>) {
    const buffer = new EncodeBuffer(framing);
    this.readable = new ReadableStream<Uint8Array>({
      pull: (controller) => buffer.pull(controller),
      cancel: (reason) => buffer.cancel(reason),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<T>({
      start: (controller) => buffer.attach(controller),
      write: (value) => buffer.write(value),
      close: () => buffer.close(),
      abort: (reason) => buffer.abort(reason),
    }, {
      // The buffer keeps its own count of bytes (a write waits above
      // WRITABLE_HIGH_WATER); the stream's queue only holds values until
      // they are encoded. A larger queue lets a pipe run ahead into it,
      // which costs more than it saves (BENCHMARKS.md, Session 6).
      highWaterMark: 1,
      // Called as each value is written, before it is queued.
      size: buffer.count,
    });
  }
}

/** A read of an EncoderStream's readable side waiting for bytes. */
interface WaitingRead {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Settles the read's pull. */
  done: () => void;
}

/**
 * The buffer between an EncoderStream's two sides: frames are encoded into
 * `#open` as values are written, finished chunks wait in `#ready`, and a
 * read takes the oldest chunk (or the open one).
 */
class EncodeBuffer<T> {
  readonly #framing: Framing<T>;
  readonly #codec: Codec<T> | undefined;
  /** Values written and not yet encoded (queued on the writable side). */
  #queued = 0;
  /** Finished chunks, oldest first. */
  #ready: Uint8Array[] = [];
  /** The chunk being gathered: `#open[0, #length)`. */
  #open = EMPTY;
  #length = 0;
  /** Bytes in `#ready` and `#open`: what the high-water mark counts. */
  #held = 0;
  /** A read waiting for bytes. */
  #reader: WaitingRead | undefined;
  /** Writes waiting for the buffer to drain below the high-water mark. */
  #drained: PromiseWithResolvers<void> | undefined;
  /** Set for the rest of the turn in which a chunk left for a waiting read. */
  #holding = false;
  #holdTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #failure: { error: unknown } | undefined;
  #writable: WritableStreamDefaultController | undefined;

  constructor(framing: Framing<T>) {
    this.#framing = framing;
    this.#codec = codecOf(framing);
  }

  attach(controller: WritableStreamDefaultController): void {
    this.#writable = controller;
  }

  /** The writable side's size function: one more value queued. */
  readonly count = (): number => {
    this.#queued++;
    return 1;
  };

  write(value: T): Promise<void> | undefined {
    if (this.#queued > 0) this.#queued--;
    try {
      this.#encode(value);
    } catch (error) {
      this.#fail(error);
      throw error;
    }
    const reader = this.#reader;
    // The last value of a burst to a waiting read leaves, unless a chunk
    // left in this same turn (then it gathers until the turn ends); a full
    // chunk always does.
    if (
      reader !== undefined &&
      (this.#ready.length > 0 || (this.#queued === 0 && !this.#holding))
    ) {
      this.#deliver(reader);
    }
    if (this.#held < WRITABLE_HIGH_WATER) return undefined;
    return (this.#drained ??= Promise.withResolvers()).promise;
  }

  pull(
    controller: ReadableStreamDefaultController<Uint8Array>,
  ): Promise<void> | void {
    // A full chunk leaves at once. Values still queued on the writable side
    // are a burst being encoded: its last write hands the chunk over (or a
    // chunk fills first). Bytes held and nothing queued: a reader that came
    // back quickly (a pipe into a socket with room) would otherwise take a
    // value or two per chunk, so they gather for the rest of the turn.
    if (this.#ready.length > 0) return this.#take(controller);
    if (this.#failure && this.#held === 0) {
      return controller.error(this.#failure.error);
    }
    if (this.#closed && this.#held === 0) return this.#end(controller);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#reader = { controller, done: resolve };
    if (this.#held > 0 && this.#queued === 0) {
      if (this.#closed || this.#failure) this.#deliver(this.#reader);
      else this.#hold();
    }
    return promise;
  }

  close(): void {
    this.#closed = true;
    this.#stopHolding();
    const reader = this.#reader;
    if (reader !== undefined) this.#deliver(reader);
  }

  abort(reason: unknown): void {
    this.#failure = { error: reason };
    this.#stopHolding();
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.controller.error(reason);
    reader?.done();
  }

  cancel(reason: unknown): void {
    this.#stopHolding();
    this.#ready = [];
    this.#open = EMPTY;
    this.#length = this.#held = 0;
    this.#writable?.error(reason);
    this.#drained?.reject(reason);
    this.#drained?.promise.catch(() => {});
    this.#drained = undefined;
  }

  /** Encodes `value` into the open chunk, finishing chunks that are full. */
  #encode(value: T): void {
    const codec = this.#codec;
    if (codec !== undefined) {
      const n = codec.measure(value);
      codec.write(value, this.#room(n), this.#length);
      this.#length += n;
      this.#held += n;
    } else {
      const bytes = encodeChecked(this.#framing, value);
      this.#held += bytes.length;
      if (
        this.#length === 0 && this.#ready.length === 0 && this.#queued === 0
      ) {
        this.#ready.push(bytes); // alone: no copy
        return;
      }
      this.#room(bytes.length).set(bytes, this.#length);
      this.#length += bytes.length;
    }
    if (this.#length >= CHUNK_BYTES) this.#finish();
  }

  /** `#open` with room for `n` more bytes at `#length`, after finishing a full chunk. */
  #room(n: number): Uint8Array {
    if (this.#length + n <= this.#open.length) return this.#open;
    if (this.#length > 0 && this.#length + n > CHUNK_BYTES) this.#finish();
    const length = this.#length;
    // Sized for the values still queued, taken to be about this one's size,
    // so a burst is usually one allocation; doubled when that falls short.
    const want = length + n * (1 + this.#queued);
    const capacity = Math.max(
      length + n,
      Math.min(CHUNK_BYTES, Math.max(want, 2 * this.#open.length, MIN_CHUNK)),
    );
    const grown = new Uint8Array(capacity);
    if (length > 0) grown.set(this.#open.subarray(0, length));
    this.#open = grown;
    return grown;
  }

  /** The open chunk joins the finished ones. */
  #finish(): void {
    if (this.#length === 0) return;
    const length = this.#length;
    this.#ready.push(
      length === this.#open.length
        ? this.#open
        : this.#open.subarray(0, length),
    );
    // What is left of the allocation stays open for the next frames.
    this.#open = this.#open.subarray(length);
    this.#length = 0;
  }

  /** Hands the waiting read a chunk and starts holding for the rest of the turn. */
  #deliver(reader: WaitingRead): void {
    this.#reader = undefined;
    if (this.#held > 0) {
      this.#take(reader.controller);
      this.#hold();
    } else if (this.#failure) {
      reader.controller.error(this.#failure.error);
    } else if (this.#closed) {
      this.#end(reader.controller);
    } else {
      this.#reader = reader; // nothing to hand out yet
      return;
    }
    reader.done();
  }

  /** Enqueues the oldest chunk, and wakes writes waiting for room. */
  #take(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (this.#ready.length === 0) this.#finish();
    const chunk = this.#ready.shift()!;
    this.#held -= chunk.length;
    controller.enqueue(chunk);
    if (this.#held < WRITABLE_HIGH_WATER && this.#drained !== undefined) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
  }

  #end(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#stopHolding();
    controller.close();
  }

  /** A value could not be encoded: the chunks before it, then the error. */
  #fail(error: unknown): void {
    this.#failure = { error };
    this.#finish();
    const reader = this.#reader;
    if (reader !== undefined) this.#deliver(reader);
  }

  #hold(): void {
    if (this.#holding) return;
    this.#holding = true;
    this.#holdTimer = setTimeout(this.#endHold, 0);
  }

  readonly #endHold = (): void => {
    this.#holding = false;
    this.#holdTimer = undefined;
    const reader = this.#reader;
    if (reader !== undefined && this.#held > 0) this.#deliver(reader);
  };

  #stopHolding(): void {
    if (this.#holdTimer !== undefined) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#holding = false;
  }
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
