// parseFraming: each spec makes the codec it names (checked by the bytes it
// writes), and every spec it refuses says why and lists what is accepted.

import { FrameDecoder, type Framing, parseFraming } from "../../mod.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import { utf8 } from "../_helpers/bytes.ts";

/** The byte framing a spec names (message's is told apart by its head). */
function bytesFraming(spec: string): Framing<Uint8Array> {
  const framing = parseFraming(spec);
  if ("head" in framing) throw new Error(`${spec} is message's framing`);
  return framing;
}

Deno.test("parseFraming: each spec writes its codec's bytes", () => {
  const hi = utf8("hi");
  const cases: [string, number[]][] = [
    ["raw", [104, 105]],
    ["lines", [104, 105, 10]],
    ["crlf", [104, 105, 13, 10]],
    ["length", [0, 0, 0, 2, 104, 105]],
    ["length:1", [2, 104, 105]],
    ["length:2", [0, 2, 104, 105]],
    ["length:3", [0, 0, 2, 104, 105]],
    ["length:4:le", [2, 0, 0, 0, 104, 105]],
    ["length:2:be", [0, 2, 104, 105]],
    ["length:8", [0, 0, 0, 0, 0, 0, 0, 2, 104, 105]],
    ["varint", [2, 104, 105]],
    ["netstring", [...utf8("2:hi,")]],
    [" LINES ", [104, 105, 10]],
  ];
  for (const [spec, bytes] of cases) {
    const framing = bytesFraming(spec);
    assertEquals([...framing.encode(hi)], bytes, spec);
    const decoded = new FrameDecoder(framing).push(new Uint8Array(bytes));
    assertEquals(decoded.map((f) => [...f]), [[104, 105]], spec);
  }
});

Deno.test("parseFraming: message and field", () => {
  const framing = parseFraming("message");
  assertEquals("head" in framing, true);
  const le = parseFraming("message:le");
  if (!("head" in le)) throw new Error("message:le is not message's framing");
  const bytes = le.encode({ header: {}, body: new Uint8Array(0) });
  assertEquals([...bytes.subarray(0, 4)], [10, 0, 0, 0]); // {"size":0}
  // PostgreSQL: a type byte, then an int32 length that counts itself.
  const pg = bytesFraming("field:1:4:-4");
  const frame = new Uint8Array([0x51, 0, 0, 0, 6, 104, 105]);
  assertEquals(new FrameDecoder(pg).push(frame).length, 1);
  const little = bytesFraming("field:0:2:le");
  assertEquals(
    new FrameDecoder(little).push(new Uint8Array([2, 0, 1, 2])).length,
    1,
  );
});

Deno.test("parseFraming: raw hands out each chunk whole", () => {
  const decoder = new FrameDecoder(bytesFraming("raw"));
  assertEquals(decoder.push(utf8("abc")).map((f) => f.length), [3]);
  assertEquals(decoder.push(new Uint8Array(0)), []);
  assertEquals(decoder.buffered, 0);
  assertThrows(
    () => bytesFraming("raw").encode("x" as unknown as Uint8Array),
    TypeError,
    "expected a Uint8Array",
  );
});

Deno.test("parseFraming: refusals say why and list what is accepted", () => {
  const cases: [unknown, string][] = [
    ["", 'unknown framing ""'],
    ["json", 'unknown framing "json"'],
    ["length:5", "a length is 1, 2, 3, 4 or 8 bytes, got 5"],
    ["length:16", "got 16"],
    ["length:4:middle", "the byte order is le or be, got middle"],
    ["length:4:le:x", "too many options for length"],
    ["lines:x", "lines takes no options"],
    ["raw:1", "raw takes no options"],
    ["message:le:x", "message takes only a byte order"],
    ["message:xe", "the byte order is le or be"],
    ["field:1", "field takes OFFSET:N"],
    ["field:x:4", "OFFSET and ADJUSTMENT are whole numbers"],
    ["field:1:4:z", "OFFSET and ADJUSTMENT are whole numbers"],
    [42, "expected a string, got number"],
  ];
  for (const [spec, why] of cases) {
    const error = assertThrows(
      () => parseFraming(spec as string),
      TypeError,
      why,
    );
    assertEquals(
      error.message.includes(
        "accepted: raw, lines, crlf, length, length:N (N = 1, 2, 3, 4 or 8), length:N:le",
      ),
      true,
      error.message,
    );
  }
});
