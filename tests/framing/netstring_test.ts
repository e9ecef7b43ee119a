// Tests of framing/netstring.ts: netstring().

import { FrameDecoder, FrameError, netstring } from "../../framing.ts";
import { codecOf } from "../../framing/types.ts";
import { assertEquals, assertThrows, concat } from "../_helpers/assert.ts";
import { text, utf8 } from "../_helpers/bytes.ts";
import { decodeAll, frameError } from "../_helpers/framing.ts";
import { python } from "../_helpers/python.ts";

Deno.test("netstring: exact bytes, as Python's b'%d:%s,' writes them", async () => {
  const framing = netstring();
  const values = ["", "hello", "0123456789", ":,"].map(utf8);
  const ours = concat(values.map((value) => framing.encode(value)));
  const theirs = await python(
    `print(b"".join(b"%d:%s," % (len(s), s) for s in [b"", b"hello", b"0123456789", b":,"]).decode())`,
  );
  assertEquals(text(ours), theirs);
  assertEquals(decodeAll(framing, ours).map(text), [
    "",
    "hello",
    "0123456789",
    ":,",
  ]);
});

Deno.test("netstring: malformed lengths and a missing comma are BAD_HEADER", () => {
  const framing = netstring();
  const cases: [string, string][] = [
    [":hello,", 'its length is empty (":" first)'],
    ["05:hello,", "leading zero"],
    ["00:,", "leading zero"],
    [" 5:hello,", 'expected a digit or ":" in its length, got " "'],
    ["5 :hello,", 'got " "'],
    ["-1:", 'got "-"'],
    ["+5:hello,", 'got "+"'],
    ["5\n", "got 0x0a"],
    ["5:hello;", 'expected "," after its 5-byte payload, got ";"'],
    ["5:hello\n", "got 0x0a"],
    ["0:x", 'got "x"'],
  ];
  for (const [stream, message] of cases) {
    frameError(() => framing.decode(utf8(stream), 0), "BAD_HEADER", message);
    assertEquals(codecOf(framing)!.decodeMany!(utf8(stream), 0, []), 0, stream);
  }
  // "0" itself is fine.
  assertEquals(framing.decode(utf8("0:,"), 0)?.next, 3);
});

Deno.test("netstring: a length over the limit is refused from its digits, before its colon", () => {
  const framing = netstring({ maxFrameBytes: 1000 });
  assertEquals(framing.decode(utf8("1000"), 0), null);
  frameError(
    () => framing.decode(utf8("1001"), 0),
    "FRAME_TOO_LARGE",
    "at least: 1001 bytes, limit is 1000",
  );
  frameError(
    () => framing.decode(utf8("99999"), 0),
    "FRAME_TOO_LARGE",
    "at least: 9999 bytes",
  );
  assertEquals(codecOf(framing)!.decodeMany!(utf8("0:,1001:"), 0, []), 3);
  // An endless run of digits: refused after a few bytes, in 1-byte pushes too.
  const decoder = new FrameDecoder(framing);
  let pushed = 0;
  const error = assertThrows(() => {
    for (; pushed < 1000; pushed++) decoder.push(utf8("9"));
  }, FrameError);
  assertEquals([error.code, pushed], ["FRAME_TOO_LARGE", 3]);
  frameError(
    () => framing.encode(new Uint8Array(1001)),
    "FRAME_TOO_LARGE",
    "limit is 1000",
  );
  assertThrows(
    () => framing.encode(null as unknown as Uint8Array),
    TypeError,
    "null",
  );
});
