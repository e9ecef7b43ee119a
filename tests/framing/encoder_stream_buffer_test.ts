// EncoderStream as a buffer (DESIGN.md, "Web Streams are buffers too"): an
// awaited write resolves once encoded while there is room, and a loop of
// awaited writes piped into a connection leaves in few chunks.

import { EncoderStream, FrameDecoder, lengthPrefixed } from "../../framing.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { isPending } from "../_helpers/async.ts";

const payload = (i: number) => new TextEncoder().encode(`value ${i}`);

Deno.test("EncoderStream: an awaited write resolves while nobody reads, until the high-water mark", async () => {
  const stream = new EncoderStream(lengthPrefixed());
  const writer = stream.writable.getWriter();
  for (let i = 0; i < 1000; i++) await writer.write(payload(i));
  // About 1 MiB of frames: the write that crosses it waits for a read.
  const big = new Uint8Array(512 * 1024);
  await writer.write(big);
  const waiting = writer.write(big);
  assert(await isPending(waiting), "a write over the high-water mark waits");
  const decoder = new FrameDecoder(lengthPrefixed());
  const values: Uint8Array[] = [];
  const reading = (async () => {
    for await (const chunk of stream.readable) {
      values.push(...decoder.push(chunk));
    }
  })();
  await waiting; // room again once the reader took some
  await writer.close();
  await reading;
  assertEquals(values.length, 1002);
  assertEquals(values[999], payload(999));
  assertEquals(values[1001].length, big.length);
});

Deno.test("EncoderStream: a loop of awaited writes piped into a connection's writer batches", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  using server = await listener.accept();
  const VALUES = 20_000;
  let writes = 0;
  const counted = new WritableStream<Uint8Array>({
    async write(chunk) {
      writes++;
      for (let done = 0; done < chunk.length;) {
        done += await client.write(chunk.subarray(done));
      }
    },
  });
  const stream = new EncoderStream(lengthPrefixed());
  const piped = stream.readable.pipeTo(counted);
  const receiving = (async () => {
    const decoder = new FrameDecoder(lengthPrefixed());
    const buffer = new Uint8Array(64 * 1024);
    let received = 0;
    while (received < VALUES) {
      const n = await server.read(buffer);
      if (n === null) throw new Error("unexpected end of stream");
      for (const value of decoder.push(buffer.subarray(0, n))) {
        assertEquals(value, payload(received++));
      }
    }
  })();
  const writer = stream.writable.getWriter();
  for (let i = 0; i < VALUES; i++) await writer.write(payload(i));
  await writer.close();
  await piped;
  await receiving;
  assert(writes < VALUES / 20, `${writes} writes for ${VALUES} values`);
});
