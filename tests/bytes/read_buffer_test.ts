// bytes/read_buffer.ts: the buffer behind the socket's reads and FrameDecoder.
// Views it hands out stay intact; its allocations follow the traffic.

import { ReadBuffer } from "../../bytes/read_buffer.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

/** Reads `chunk` into the buffer as the socket does: reserve, fill, commit. */
function receive(buffer: ReadBuffer, chunk: Uint8Array, room: number): number {
  const space = buffer.reserve(room);
  space.set(chunk);
  buffer.commit(chunk.length);
  return space.length;
}

Deno.test("ReadBuffer: values taken stay intact while later bytes arrive, however many", () => {
  const buffer = new ReadBuffer(1024);
  const taken: Uint8Array[] = [];
  for (let i = 0; i < 500; i++) {
    receive(buffer, new Uint8Array(36).fill(i % 256), 256);
    taken.push(buffer.take(36));
  }
  taken.forEach((value, i) => {
    assert(value.every((byte) => byte === i % 256), `value ${i} changed`);
  });
});

Deno.test("ReadBuffer: memory lent out to its end is followed by larger allocations, up to 16 KiB; memory never lent is reused", () => {
  const lending = new ReadBuffer(1024);
  const sizes = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    sizes.add(receive(lending, new Uint8Array(36), 256));
    lending.take(36);
  }
  // Each new allocation's room (the first read's is the whole allocation).
  const grew = [...sizes].filter((size) => size >= 1024).sort((a, b) => a - b);
  assertEquals(grew.at(-1), 16 * 1024);
  assert(grew.includes(2048) && grew.includes(8192), `sizes ${grew}`);

  // Copied out (skip, not take): the same 1 KiB is read into again.
  const copying = new ReadBuffer(1024);
  for (let i = 0; i < 2000; i++) {
    const room = receive(copying, new Uint8Array(36), 256);
    assert(room <= 1024, `a read of ${room} bytes' room`);
    copying.skip(36);
  }
});
