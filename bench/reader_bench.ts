// The socket reader's JS cost per receive, apart from the runtime's reads:
// `deno bench bench/reader_bench.ts`. A scripted source hands out one 36-byte
// frame (4-byte length, 32-byte payload) per read, at once, as a connection
// of request/response traffic does; bench:net's concurrency case measures the
// same path with real sockets, where the noise of a shared machine hides
// differences of a tenth of a microsecond.
//
// - "frames(), one frame per read": a served connection's loop; each
//   iteration receives 20,000 frames, so µs per frame = time / 20,000.
//   Baseline: the floor's reader (bench/_floor.ts) over the same source.
// - "recvInto, 64-byte target": the zero-copy receive with nothing buffered.
//   Baseline: the floor's (a promise per call that close() could settle).

import { Reader } from "../io/reader.ts";
import { lengthPrefixed } from "../framing.ts";
import { FloorIntoReader, FloorReader } from "./_floor.ts";

const FRAMES = 20_000;
const frame = new Uint8Array(36);
frame[3] = 32;

/** A source of FRAMES reads of one frame each, then the end of the stream. */
function scriptedSource(): Deno.Conn {
  let left = FRAMES;
  const source = {
    read(buffer: Uint8Array): Promise<number | null> {
      if (left-- === 0) return Promise.resolve(null);
      buffer.set(frame);
      return Promise.resolve(frame.length);
    },
  };
  // The floor's reader takes a connection and calls only read().
  return source as unknown as Deno.Conn;
}

const noProgress = () => {};
const framing = lengthPrefixed();

function expect(count: number): void {
  if (count !== FRAMES) throw new Error(`${count} frames, not ${FRAMES}`);
}

Deno.bench("frames(), one frame per read: the floor", {
  group: "frames",
  baseline: true,
}, async () => {
  let count = 0;
  for await (const _ of new FloorReader(scriptedSource())) count++;
  expect(count);
});

Deno.bench("frames(), one frame per read: ours", {
  group: "frames",
}, async () => {
  const reader = new Reader(scriptedSource(), noProgress);
  let count = 0;
  for await (const _ of reader.frames(framing, "receive frames")) count++;
  expect(count);
});

Deno.bench("recvInto, 64-byte target: the floor", {
  group: "recvInto",
  baseline: true,
}, async () => {
  const reader = new FloorIntoReader(scriptedSource());
  const target = new Uint8Array(64);
  let count = 0;
  while ((await reader.recvInto(target)) !== null) count++;
  expect(count);
});

Deno.bench("recvInto, 64-byte target: ours", {
  group: "recvInto",
}, async () => {
  const reader = new Reader(scriptedSource(), noProgress);
  const target = new Uint8Array(64);
  let count = 0;
  while ((await reader.into(target, {}, "receive")) !== null) count++;
  expect(count);
});
