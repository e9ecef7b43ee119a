// The batch APIs: sendFrames hands many frames over in one call, recvFrames
// returns every frame already buffered in one await.

import { encodeFrame, FrameError } from "../mod.ts";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { within } from "./_helpers/async.ts";
import { text, utf8 } from "./_helpers/bytes.ts";
import {
  frameError,
  rawPair,
  socketPair,
  writeAll,
} from "./_helpers/sockets.ts";

Deno.test("recvFrames: returns every frame sent in one batch, in order, then null at the end", async () => {
  await using pair = await socketPair();
  const sent = Array.from({ length: 5000 }, (_, i) => utf8(`frame ${i}`));
  await pair.client.sendFrames(sent);
  pair.client.close();
  const received: string[] = [];
  let batches = 0;
  for (let round = 0; round < 10_000; round++) {
    const frames = await within(pair.peer.recvFrames(), 5000, "a batch");
    if (frames === null) break;
    assert(frames.length > 0, "an empty batch");
    batches++;
    received.push(...frames.map(text));
  }
  assertEquals(received, sent.map(text));
  assert(
    batches < sent.length / 10,
    `${batches} batches for ${sent.length} frames`,
  );
});

Deno.test("recvFrames: a malformed frame after good ones: the good ones first, the error on the next call", async () => {
  await using pair = await rawPair({});
  // Two good frames, then a header announcing more than the 16 MiB limit.
  const bytes = new Uint8Array([
    ...encodeFrame(utf8("a")),
    ...encodeFrame(utf8("b")),
    0xff,
    0xff,
    0xff,
    0xff,
  ]);
  await writeAll(pair.raw, bytes);
  let frames: Uint8Array[] | null = null;
  for (let round = 0; round < 100 && (frames?.length ?? 0) < 2; round++) {
    const more = await within(
      pair.client.recvFrames(),
      5000,
      "the good frames",
    );
    frames = [...(frames ?? []), ...(more ?? [])];
  }
  assertEquals(frames?.map(text), ["a", "b"]);
  const error = await frameError(pair.client.recvFrames(), "FRAME_TOO_LARGE");
  assert(error instanceof FrameError);
});
