// bytes/buffer_pool.ts: the write buffers idle writers share.

import { BufferPool } from "../../bytes/buffer_pool.ts";
import { assertEquals, assertStrictEquals } from "../_helpers/assert.ts";

Deno.test("BufferPool: a buffer given back is taken again by the next writer of its size, once", () => {
  const pool = new BufferPool(64 * 1024);
  const small = new Uint8Array(1024);
  const large = new Uint8Array(4096);
  pool.give(small);
  pool.give(large);
  assertEquals(pool.bytes, 5120);
  assertEquals(pool.take(2048), undefined);
  assertStrictEquals(pool.take(4096), large);
  assertStrictEquals(pool.take(1024), small);
  assertEquals(pool.take(1024), undefined);
  assertEquals(pool.bytes, 0);
});

Deno.test("BufferPool: keeps at most maxBytes in all, and only power-of-two sizes", () => {
  const pool = new BufferPool(2048);
  pool.give(new Uint8Array(1024));
  pool.give(new Uint8Array(1024));
  pool.give(new Uint8Array(1024)); // over the bound: left to the collector
  pool.give(new Uint8Array(1000)); // not a size a writer asks for
  assertEquals(pool.bytes, 2048);
  assertEquals(pool.take(1024)?.length, 1024);
  assertEquals(pool.take(1024)?.length, 1024);
  assertEquals(pool.take(1024), undefined);
});
