// Tests of framing/varint.ts: varintPrefixed().

import { varintPrefixed } from "../../framing.ts";
import { codecOf } from "../../framing/types.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";
import { bytes, hex } from "../_helpers/bytes.ts";
import { frameError } from "../_helpers/framing.ts";
import { python } from "../_helpers/python.ts";

Deno.test("varintPrefixed: lengths as protobuf's encoder writes them (Python, 7 bits a byte)", async () => {
  const lengths = [0, 1, 127, 128, 300, 16383, 16384, 2 ** 21, 2 ** 24];
  const expected = (await python(`
def varint(n):
    out = bytearray()
    while True:
        bits, n = n & 0x7F, n >> 7
        out.append(bits | (0x80 if n else 0))
        if not n:
            return bytes(out)
print(" ".join(varint(n).hex() for n in [${lengths}]))
`)).split(" ");
  const framing = varintPrefixed();
  lengths.forEach((length, i) => {
    const frame = framing.encode(new Uint8Array(length));
    const header = frame.subarray(0, frame.length - length);
    assertEquals(hex(header), expected[i], `length ${length}`);
    const decoded = framing.decode(frame, 0)!;
    assertEquals([decoded.value.length, decoded.next], [length, frame.length]);
  });
});

Deno.test("varintPrefixed: lengths written long (padded with 0x80 bytes) are read, up to 10 bytes", () => {
  const framing = varintPrefixed();
  const padded = bytes(
    0x83,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x00,
    1,
    2,
    3,
  );
  assertEquals([...framing.decode(padded, 0)!.value], [1, 2, 3]);
  assertEquals(framing.decode(padded.subarray(0, 9), 0), null);
  frameError(
    () => framing.decode(new Uint8Array(10).fill(0x80), 0),
    "BAD_HEADER",
    "goes on past 10 bytes",
  );
  assertEquals(
    codecOf(framing)!.decodeMany!(new Uint8Array(10).fill(0x80), 0, []),
    0,
  );
});

Deno.test("varintPrefixed: a length over 2^53 - 1 is BAD_HEADER, even over the limit", () => {
  const framing = varintPrefixed({ maxFrameBytes: 10 });
  // 2^53: seven 0x80 bytes then 0x10 (16 << 49).
  const over = bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10);
  frameError(
    () => framing.decode(over, 0),
    "BAD_HEADER",
    "over 2^53 - 1 after 8 bytes",
  );
  // Known from the 8th byte: no need to wait for the varint to end.
  frameError(
    () =>
      framing.decode(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x90), 0),
    "BAD_HEADER",
    "over 2^53 - 1",
  );
  assertEquals(codecOf(framing)!.decodeMany!(over, 0, []), 0);
  // 2^53 - 1 itself is merely too large.
  const max = bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f);
  frameError(
    () => framing.decode(max, 0),
    "FRAME_TOO_LARGE",
    "9007199254740991 bytes",
  );
});

Deno.test("varintPrefixed: over maxFrameBytes is FRAME_TOO_LARGE once the varint ends; encode refuses it too", () => {
  const framing = varintPrefixed({ maxFrameBytes: 200 });
  assertEquals(framing.decode(bytes(0xc8, 0x01), 0), null); // 200: waits
  assertEquals(framing.decode(bytes(0xc9), 0), null); // the varint goes on
  frameError(
    () => framing.decode(bytes(0xc9, 0x01), 0),
    "FRAME_TOO_LARGE",
    "varint length announces: 201 bytes, limit is 200",
  );
  assertEquals(codecOf(framing)!.decodeMany!(bytes(0xc9, 0x01), 0, []), 0);
  // The one-byte fast path of decodeMany checks the limit too.
  const small = varintPrefixed({ maxFrameBytes: 3 });
  assertEquals(codecOf(small)!.decodeMany!(bytes(4, 1, 2, 3, 4), 0, []), 0);
  frameError(
    () => small.decode(bytes(4), 0),
    "FRAME_TOO_LARGE",
    "4 bytes, limit is 3",
  );
  frameError(
    () => small.encode(new Uint8Array(4)),
    "FRAME_TOO_LARGE",
    "limit is 3",
  );
  assertThrows(
    () => small.encode([1] as unknown as Uint8Array),
    TypeError,
    "an array",
  );
});
