// framing/length_field.ts: lengthField() for protocols people already speak
// (PostgreSQL's and MySQL's messages): exact bytes, every error it throws,
// limits checked from the field alone.

import {
  lengthField,
  type LengthFieldOptions,
  netstring,
  varintPrefixed,
} from "../../framing.ts";
import { codecOf } from "../../framing/types.ts";
import {
  assertEquals,
  assertStringIncludes,
  assertThrows,
  concat,
} from "../_helpers/assert.ts";
import { bytes, text, utf8 } from "../_helpers/bytes.ts";
import { decodeAll, frameError, MYSQL, POSTGRES } from "../_helpers/framing.ts";

Deno.test("lengthField: PostgreSQL's messages, whole, with their type byte", () => {
  // ReadyForQuery 'I', then CommandComplete "SELECT 1", as a server sends them.
  const stream = concat([
    bytes(0x5a, 0, 0, 0, 5, 0x49),
    bytes(0x43, 0, 0, 0, 13),
    utf8("SELECT 1\0"),
  ]);
  const [ready, complete] = decodeAll(POSTGRES, stream);
  assertEquals([...ready], [0x5a, 0, 0, 0, 5, 0x49]);
  assertEquals(text(complete.subarray(5, -1)), "SELECT 1");
  // Views into the chunk, not copies.
  assertEquals(ready.buffer, stream.buffer);
  assertEquals(complete.byteOffset, stream.byteOffset + 6);
});

Deno.test("lengthField: encode fills in the length field of a copy, whatever the field held", () => {
  const query = concat([bytes(0x51, 9, 9, 9, 9), utf8("SELECT 1\0")]);
  const encoded = POSTGRES.encode(query);
  assertEquals([...encoded.subarray(0, 5)], [0x51, 0, 0, 0, 13]);
  assertEquals(text(encoded.subarray(5)), "SELECT 1\0");
  assertEquals(
    [...query.subarray(0, 5)],
    [0x51, 9, 9, 9, 9],
    "the caller's array",
  );
  assertEquals(
    [...MYSQL.encode(concat([bytes(0, 0, 0, 3), utf8("abc")]))],
    [3, 0, 0, 3, 0x61, 0x62, 0x63],
  );
  // Every width and byte order, against a 2-byte prefix.
  for (const headerBytes of [1, 2, 3, 4, 8] as const) {
    for (const littleEndian of [false, true]) {
      const framing = lengthField({ offset: 2, headerBytes, littleEndian });
      const frame = new Uint8Array(2 + headerBytes + 5).fill(0xee);
      const out = framing.encode(frame);
      const field = out.subarray(2, 2 + headerBytes);
      const expected = new Uint8Array(headerBytes);
      expected[littleEndian ? 0 : headerBytes - 1] = 5;
      assertEquals([...field], [...expected], `${headerBytes} ${littleEndian}`);
      assertEquals(framing.decode(out, 0)?.next, out.length);
    }
  }
});

Deno.test("lengthField: MySQL packets, the largest (2^24 - 1 payload bytes) with maxFrameBytes raised", () => {
  const mysql = lengthField({
    headerBytes: 3,
    littleEndian: true,
    adjustment: 1,
    maxFrameBytes: 2 ** 24 + 3,
  });
  const packet = mysql.encode(new Uint8Array(2 ** 24 + 3));
  assertEquals([...packet.subarray(0, 4)], [255, 255, 255, 0]);
  assertEquals(mysql.decode(packet, 0)?.value.length, 2 ** 24 + 3);
  // With the default limit (16 MiB, counted whole) it is refused at its header.
  frameError(
    () => MYSQL.decode(packet.subarray(0, 4), 0),
    "FRAME_TOO_LARGE",
    "16777219 bytes, limit is 16777216",
  );
});

Deno.test("lengthField: the options' errors are RangeErrors naming the value", () => {
  for (const headerBytes of [0, 5, 6, 7, 16, 2.5]) {
    const error = assertThrows(
      () => lengthField({ headerBytes } as unknown as LengthFieldOptions),
      RangeError,
    );
    assertStringIncludes(error.message, `got ${headerBytes}`);
  }
  for (const adjustment of [0.5, NaN, Infinity, 2 ** 53]) {
    assertThrows(() => lengthField({ adjustment }), RangeError, "adjustment");
  }
  for (const bad of [-1, 1.5, NaN]) {
    assertThrows(() => lengthField({ offset: bad }), RangeError, "offset");
    assertThrows(
      () => lengthField({ maxFrameBytes: bad }),
      RangeError,
      "maxFrameBytes",
    );
    assertThrows(
      () => varintPrefixed({ maxFrameBytes: bad }),
      RangeError,
      "maxFrameBytes",
    );
    assertThrows(
      () => netstring({ maxFrameBytes: bad }),
      RangeError,
      "maxFrameBytes",
    );
  }
});

Deno.test("lengthField: a field that makes the frame shorter than its header is BAD_HEADER", () => {
  // PostgreSQL: a length under 4 cannot count itself.
  for (let field = 0; field < 4; field++) {
    frameError(
      () => POSTGRES.decode(bytes(0x5a, 0, 0, 0, field), 0),
      "BAD_HEADER",
      `length field ${field} makes a frame of ${
        field + 1
      } bytes, shorter than its 5-byte header`,
    );
    assertEquals(
      codecOf(POSTGRES)!.decodeMany!(bytes(0x5a, 0, 0, 0, field), 0, []),
      0,
    );
  }
  assertEquals(POSTGRES.decode(bytes(0x5a, 0, 0, 0, 4), 0)?.next, 5);
});

Deno.test("lengthField: a frame over maxFrameBytes is refused from the field alone", () => {
  const framing = lengthField({
    offset: 1,
    headerBytes: 2,
    maxFrameBytes: 100,
  });
  assertEquals(framing.decode(bytes(7, 0, 97), 0), null); // 100: not yet here
  frameError(
    () => framing.decode(bytes(7, 0, 98), 0),
    "FRAME_TOO_LARGE",
    "length field announces: 101 bytes, limit is 100",
  );
  // An 8-byte field of 2^64 - 1.
  frameError(
    () =>
      lengthField({ headerBytes: 8 }).decode(new Uint8Array(8).fill(255), 0),
    "FRAME_TOO_LARGE",
    "limit is 16777216",
  );
});

Deno.test("lengthField: encode refuses a non-Uint8Array, a frame shorter than its header, one over the limit or the field", () => {
  assertThrows(
    () => POSTGRES.encode("Q" as unknown as Uint8Array),
    TypeError,
    "expected a Uint8Array, got string",
  );
  frameError(
    () => POSTGRES.encode(bytes(0x51, 0, 0, 0)),
    "BAD_HEADER",
    "4 bytes, shorter than the 5 bytes its header implies",
  );
  // MySQL's sequence byte is not counted: a frame needs it.
  frameError(
    () => MYSQL.encode(bytes(0, 0, 0)),
    "BAD_HEADER",
    "shorter than the 4 bytes",
  );
  frameError(
    () => lengthField({ maxFrameBytes: 10 }).encode(new Uint8Array(11)),
    "FRAME_TOO_LARGE",
    "11 bytes, limit is 10",
  );
  frameError(
    () => lengthField({ headerBytes: 1 }).encode(new Uint8Array(257)),
    "FRAME_TOO_LARGE",
    "the length field would say: 256 bytes, limit is 255 (the most 1 bytes hold)",
  );
});
