// framing/length_prefixed.ts: lengthPrefixed(), encodeFrame() and
// decodeFrames(). Exact bytes against Python's struct.pack, every header width
// and byte order, lengthIncludesHeader, 3-byte headers, the limits, the
// byte-order hint in FRAME_TOO_LARGE, and the writer's fast paths
// (decodeMany/encodeMany).

import {
  decodeFrames,
  delimited,
  encodeFrame,
  FrameDecoder,
  FrameError,
  lengthPrefixed,
  type LengthPrefixOptions,
} from "../../framing.ts";
import { codecOf, type DecodeState } from "../../framing/types.ts";
import {
  assertEquals,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
  concat,
} from "../_helpers/assert.ts";
import { bytes, fromHex, hex, text, utf8 } from "../_helpers/bytes.ts";
import {
  assertFrameError,
  BE_HINT,
  frameError,
  frameErrorMessage,
  LE_HINT,
  pattern,
  u32,
} from "../_helpers/framing.ts";
import { python } from "../_helpers/python.ts";

const PY_PATTERN = "bytes((i * 7 + 1) % 256 for i in range(n))";

// ---------------------------------------------------------------------------
// Exact bytes

Deno.test("encodeFrame: 'abc' is 00 00 00 03 61 62 63", () => {
  assertEquals(hex(encodeFrame(utf8("abc"))), "00000003616263");
});

Deno.test("encodeFrame: littleEndian matches Python struct.pack('i', 3) + b'abc'", async () => {
  const expected = await python(
    'import struct, sys; assert sys.byteorder == "little"; ' +
      'print((struct.pack("i", 3) + b"abc").hex())',
  );
  assertEquals(expected, "03000000616263"); // the x86 layout, as documented
  assertEquals(hex(encodeFrame(utf8("abc"), { littleEndian: true })), expected);
});

Deno.test("lengthPrefixed: reads a frame Python wrote with struct.pack('i', n)", async () => {
  const wire = await python(
    'import struct, sys; payload = "héllo".encode(); ' +
      'sys.stdout.write((struct.pack("i", len(payload)) + payload).hex())',
  );
  const bytes = Uint8Array.from(
    wire.match(/../g)!.map((pair) => parseInt(pair, 16)),
  );
  const decoded = lengthPrefixed({ littleEndian: true }).decode(bytes, 0);
  assertEquals(decoded && text(decoded.value), "héllo");
  assertEquals(decoded?.next, bytes.length);
});

Deno.test("encodeFrame: every header width and byte order matches Python struct.pack", async () => {
  // Lengths whose bytes all differ, so a swapped or shifted byte shows.
  const cases: [string, LengthPrefixOptions, number][] = [
    ["B", { headerBytes: 1 }, 3],
    ["B", { headerBytes: 1, littleEndian: true }, 255],
    [">H", { headerBytes: 2 }, 0x0102],
    ["<H", { headerBytes: 2, littleEndian: true }, 0x0102],
    [">H", { headerBytes: 2 }, 0xffff],
    [">I", { headerBytes: 4 }, 0x010203],
    ["<I", { headerBytes: 4, littleEndian: true }, 0x010203],
    [">Q", { headerBytes: 8 }, 0x010203],
    ["<Q", { headerBytes: 8, littleEndian: true }, 0x010203],
    [">Q", { headerBytes: 8 }, 0],
  ];
  const expected: string[] = JSON.parse(
    await python(
      "import json, struct, sys\n" +
        `out = [(struct.pack(f, n) + ${PY_PATTERN}).hex() for f, n in json.loads(sys.argv[1])]\n` +
        "print(json.dumps(out))",
      JSON.stringify(cases.map(([format, , n]) => [format, n])),
    ),
  );
  cases.forEach(([format, options, n], i) => {
    const frame = encodeFrame(pattern(n), options);
    assertEquals(hex(frame), expected[i], `${format} with ${n} bytes`);
    // And the framing reads back what Python wrote.
    const decoded = lengthPrefixed(options).decode(frame, 0);
    assertEquals(decoded?.value, pattern(n), `decode ${format}`);
  });
});

Deno.test("lengthPrefixed: an 8-byte header is read in full (lengths over 2**32)", async () => {
  const big = 2 ** 40 + 0x0102;
  for (const [format, littleEndian] of [[">Q", false], ["<Q", true]] as const) {
    const header = await python(
      `import struct; print(struct.pack("${format}", ${big}).hex())`,
    );
    const bytes = Uint8Array.from(
      header.match(/../g)!.map((pair) => parseInt(pair, 16)),
    );
    const state: DecodeState = { scanned: 0, need: 0 };
    const framing = lengthPrefixed({
      headerBytes: 8,
      littleEndian,
      maxFrameBytes: Number.MAX_SAFE_INTEGER,
    });
    assertEquals(codecOf(framing)?.decode(bytes, 0, state), null);
    assertEquals(state.need, 8 + big, format); // the announced length, exactly
  }
});

// ---------------------------------------------------------------------------
// Empty payloads and empty lines are values

Deno.test("lengthPrefixed: empty payloads are frames (read_empty_frames)", () => {
  const bytes = concat([
    encodeFrame(new Uint8Array(0)),
    encodeFrame(utf8("x")),
    encodeFrame(new Uint8Array(0)),
  ]);
  assertEquals(hex(bytes), "00000000" + "0000000178" + "00000000");
  const decoder = new FrameDecoder(lengthPrefixed());
  assertEquals(decoder.push(bytes).map(text), ["", "x", ""]);
  assertEquals(decoder.buffered, 0);
  // Even an empty frame alone, its header in two pieces.
  assertEquals(decoder.push(new Uint8Array([0, 0])), []);
  assertEquals(decoder.push(new Uint8Array([0, 0])).map(text), [""]);
  decoder.end();
});

Deno.test("Framing.decode: the payload is a subarray of the bytes given, at any offset", () => {
  const bytes = concat([utf8("junk"), encodeFrame(utf8("hello"))]);
  const result = lengthPrefixed().decode(bytes, 4);
  assertStrictEquals(result?.value.buffer, bytes.buffer);
  assertEquals(result?.value.byteOffset, 8);
  assertEquals(result?.next, bytes.length);
  const line = delimited().decode(utf8("xx\nab\n"), 3);
  assertEquals(line && text(line.value), "ab");
  assertEquals(line?.next, 6);
});

// ---------------------------------------------------------------------------
// decodeFrames

Deno.test("decodeFrames: every whole frame, and the rest as a view", () => {
  const whole = concat([encodeFrame(utf8("one")), encodeFrame(utf8(""))]);
  const partial = encodeFrame(utf8("three")).subarray(0, 6);
  const bytes = concat([whole, partial]);
  const { frames, rest } = decodeFrames(bytes);
  assertEquals(frames.map(text), ["one", ""]);
  assertEquals(rest, partial);
  assertStrictEquals(rest.buffer, bytes.buffer);
  assertEquals(rest.byteOffset, whole.length);
  frames.forEach((frame) => assertStrictEquals(frame.buffer, bytes.buffer));
});

Deno.test("decodeFrames: honours header width and byte order", () => {
  const options: LengthPrefixOptions = { headerBytes: 2, littleEndian: true };
  const bytes = concat([
    encodeFrame(pattern(300), options),
    new Uint8Array([0x2c]), // half of the next header
  ]);
  assertEquals(hex(bytes.subarray(0, 2)), "2c01");
  const { frames, rest } = decodeFrames(bytes, options);
  assertEquals(frames, [pattern(300)]);
  assertEquals([...rest], [0x2c]);
});

Deno.test("lengthPrefixed decodeMany: whole frames as views, stopping where decode would wait or throw", () => {
  const framing = lengthPrefixed({ maxFrameBytes: 8 });
  const whole = concat([
    new Uint8Array([9]), // an offset to start from
    encodeFrame(utf8("one")),
    encodeFrame(utf8("")),
    encodeFrame(utf8("three")),
  ]);
  const values: Uint8Array[] = [];
  const partial = concat([whole, encodeFrame(utf8("four")).subarray(0, 5)]);
  const codec = codecOf(framing)!;
  const stop = codec.decodeMany!(partial, 1, values);
  assertEquals(values.map(text), ["one", "", "three"]);
  values.forEach((v) => assertStrictEquals(v.buffer, partial.buffer));
  assertEquals(stop, whole.length);
  assertEquals(framing.decode(partial, stop), null);

  // A header over maxFrameBytes: decodeMany stops before it, decode throws.
  const oversized = concat([whole, new Uint8Array([0, 0, 0, 9])]);
  const more: Uint8Array[] = [];
  assertEquals(codec.decodeMany!(oversized, 1, more), whole.length);
  assertEquals(more.length, 3);
  assertThrows(() => framing.decode(oversized, whole.length), FrameError);
});

Deno.test("lengthPrefixed encodeMany: frames one after another as encode writes them, stopping before one that does not fit or is invalid", () => {
  const framing = lengthPrefixed({
    headerBytes: 2,
    littleEndian: true,
    maxFrameBytes: 8,
  });
  const values = ["skip", "one", "", "three", "four"].map(utf8);
  const frames = values.map((v) => framing.encode(v));
  // Room for "one", "" and "three" after a 1-byte offset, not for "four".
  const target = new Uint8Array(
    1 + frames[1].length + frames[2].length + frames[3].length + 3,
  ).fill(0xee);
  const { next, end } = codecOf(framing)!.writeMany!(values, 1, target, 1);
  assertEquals(next, 4);
  assertEquals(end, target.length - 3);
  assertEquals(target.subarray(1, end), concat(frames.slice(1, 4)));
  assertEquals([target[0], ...target.subarray(end)], [0xee, 0xee, 0xee, 0xee]);

  // Too large for maxFrameBytes, or not bytes at all: stops before it, no throw.
  const invalid = [utf8("ok"), new Uint8Array(9), utf8("never")];
  const room = new Uint8Array(64);
  assertEquals(codecOf(framing)!.writeMany!(invalid, 0, room, 0), {
    next: 1,
    end: 4,
  });
  const notBytes = [utf8("ok"), "text" as unknown as Uint8Array];
  assertEquals(codecOf(framing)!.writeMany!(notBytes, 0, room, 0), {
    next: 1,
    end: 4,
  });
  assertEquals(codecOf(framing)!.writeMany!(values, 5, room, 7), {
    next: 5,
    end: 7,
  });
});

Deno.test("decodeFrames: nothing in, nothing out", () => {
  const { frames, rest } = decodeFrames(new Uint8Array(0));
  assertEquals(frames, []);
  assertEquals(rest.length, 0);
  const short = decodeFrames(new Uint8Array([0, 0, 0]));
  assertEquals(short.frames, []);
  assertEquals([...short.rest], [0, 0, 0]);
});

// ---------------------------------------------------------------------------
// Exact bytes

Deno.test("lengthPrefixed 3-byte: both byte orders, as Python's struct.pack('<I')[:3] / ('>I')[1:] write them", async () => {
  const payload = new Uint8Array(0x010203);
  const little = lengthPrefixed({ headerBytes: 3, littleEndian: true });
  const big = lengthPrefixed({ headerBytes: 3 });
  assertEquals(
    hex(little.encode(payload).subarray(0, 3)),
    await python(`import struct; print(struct.pack("<I", 0x010203)[:3].hex())`),
  );
  assertEquals(
    hex(big.encode(payload).subarray(0, 3)),
    await python(`import struct; print(struct.pack(">I", 0x010203)[1:].hex())`),
  );
  assertEquals(
    little.decode(little.encode(payload), 0)?.value.length,
    0x010203,
  );
  assertEquals(big.decode(big.encode(payload), 0)?.next, 3 + 0x010203);
  // The largest: 2^24 - 1; one more does not fit.
  assertEquals(
    [...little.encode(new Uint8Array(2 ** 24 - 1)).subarray(0, 3)],
    [255, 255, 255],
  );
  frameError(
    () =>
      lengthPrefixed({ headerBytes: 3, maxFrameBytes: 2 ** 30 }).encode(
        new Uint8Array(2 ** 24),
      ),
    "FRAME_TOO_LARGE",
    "16777216 bytes, limit is 16777215",
  );
});

Deno.test("lengthPrefixed lengthIncludesHeader: the length counts the header, the value is the payload", () => {
  const framing = lengthPrefixed({ lengthIncludesHeader: true });
  assertEquals([...framing.encode(utf8("hi"))], [0, 0, 0, 6, 0x68, 0x69]);
  assertEquals(
    text(framing.decode(bytes(0, 0, 0, 6, 0x68, 0x69), 0)!.value),
    "hi",
  );
  assertEquals(framing.decode(bytes(0, 0, 0, 4), 0)?.value.length, 0);
  assertEquals(framing.decode(bytes(0, 0, 0, 7, 0x68, 0x69), 0), null);
  // maxFrameBytes bounds the payload, not the length field.
  const five = lengthPrefixed({ lengthIncludesHeader: true, maxFrameBytes: 5 });
  assertEquals(
    five.decode(bytes(0, 0, 0, 9, 1, 2, 3, 4, 5), 0)?.value.length,
    5,
  );
  frameError(
    () => five.decode(bytes(0, 0, 0, 10), 0),
    "FRAME_TOO_LARGE",
    "6 bytes, limit is 5",
  );
  frameError(
    () => five.encode(new Uint8Array(6)),
    "FRAME_TOO_LARGE",
    "limit is 5",
  );
  // A 1-byte header holds 255: the payload at most 254.
  const one = lengthPrefixed({ headerBytes: 1, lengthIncludesHeader: true });
  assertEquals(one.encode(new Uint8Array(254))[0], 255);
  frameError(
    () => one.encode(new Uint8Array(255)),
    "FRAME_TOO_LARGE",
    "limit is 254",
  );
});

Deno.test("lengthPrefixed lengthIncludesHeader: the writer's fast path (writeMany) writes what encode does", () => {
  const framing = lengthPrefixed({
    headerBytes: 2,
    lengthIncludesHeader: true,
  });
  const values = [utf8("ab"), utf8(""), utf8("xyz")];
  const target = new Uint8Array(64);
  const { next, end } = codecOf(framing)!.writeMany!(values, 0, target, 1);
  assertEquals(next, 3);
  assertEquals(
    hex(target.subarray(1, end)),
    hex(concat(values.map((value) => framing.encode(value)))),
  );
  assertEquals(hex(target.subarray(1, 5)), "00046162");
});

Deno.test("lengthPrefixed lengthIncludesHeader: a length smaller than the header is BAD_HEADER", () => {
  for (const headerBytes of [1, 2, 3, 4, 8] as const) {
    const framing = lengthPrefixed({ headerBytes, lengthIncludesHeader: true });
    for (let length = 0; length < headerBytes; length++) {
      const header = new Uint8Array(headerBytes);
      header[headerBytes - 1] = length;
      frameError(
        () => framing.decode(header, 0),
        "BAD_HEADER",
        `the header says ${length} bytes, fewer than its own ${headerBytes}`,
      );
      // decodeMany stops there without throwing; decode reports it.
      assertEquals(codecOf(framing)!.decodeMany!(header, 0, []), 0);
    }
  }
});

// ---------------------------------------------------------------------------
// FRAME_TOO_LARGE: length-prefixed

Deno.test("read_max_frame_len: a header over the limit throws as soon as it is complete", () => {
  const decoder = new FrameDecoder(lengthPrefixed({ maxFrameBytes: 16 }));
  assertEquals(decoder.push(new Uint8Array([0, 0])), []); // half a header: wait
  const error = assertFrameError(
    () => decoder.push(new Uint8Array([0, 17])), // no payload byte yet
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "17");
  assertStringIncludes(error.message, "16");
});

Deno.test("read_max_frame_len: a header announcing exactly the limit waits for its payload", () => {
  const decoder = new FrameDecoder(lengthPrefixed({ maxFrameBytes: 16 }));
  assertEquals(decoder.push(new Uint8Array([0, 0, 0, 16])), []);
  assertEquals(decoder.push(new Uint8Array(16).fill(1)), [
    new Uint8Array(16).fill(1),
  ]);
});

Deno.test("read_max_frame_len: a 4 GiB header with the default limit, header alone", () => {
  const error = assertFrameError(
    () =>
      new FrameDecoder(lengthPrefixed()).push(
        new Uint8Array([255, 255, 255, 255]),
      ),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "4294967295");
  assertStringIncludes(error.message, "16777216");
});

Deno.test("read_max_frame_len: a header with the top bit set is a large length, not a negative one", () => {
  const framing = lengthPrefixed({ maxFrameBytes: 2 ** 31 - 1 });
  const big = assertFrameError(
    () => framing.decode(new Uint8Array([0x80, 0, 0, 0]), 0),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(big.message, "2147483648");
  const little = assertFrameError(
    () =>
      lengthPrefixed({ littleEndian: true, maxFrameBytes: 2 ** 31 - 1 }).decode(
        new Uint8Array([0, 0, 0, 0x80]),
        0,
      ),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(little.message, "2147483648");
  const state = { scanned: 0, need: 0 };
  assertEquals(
    codecOf(lengthPrefixed({ maxFrameBytes: 2 ** 32 }))?.decode(
      new Uint8Array([0xff, 0xff, 0xff, 0xfe]),
      0,
      state,
    ),
    null,
  );
  assertEquals(state.need, 4 + 0xfffffffe);
});

Deno.test("read_max_frame_len: 8-byte headers past 2**53 are too large in both byte orders", () => {
  for (const littleEndian of [false, true]) {
    const framing = lengthPrefixed({
      headerBytes: 8,
      littleEndian,
      maxFrameBytes: Number.MAX_SAFE_INTEGER,
    });
    assertFrameError(
      () => framing.decode(new Uint8Array(8).fill(255), 0),
      "FRAME_TOO_LARGE",
    );
    const justOver = new Uint8Array(8);
    new DataView(justOver.buffer).setBigUint64(0, 2n ** 53n, littleEndian);
    assertFrameError(() => framing.decode(justOver, 0), "FRAME_TOO_LARGE");
  }
});

Deno.test("write_max_frame_len: encoding a payload over the limit throws", () => {
  const framing = lengthPrefixed({ maxFrameBytes: 4 });
  assertEquals(framing.encode(new Uint8Array(4)).length, 8);
  const error = assertFrameError(
    () => framing.encode(new Uint8Array(5)),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "5");
  assertFrameError(
    () => encodeFrame(new Uint8Array(5), { maxFrameBytes: 4 }),
    "FRAME_TOO_LARGE",
  );
  // The writer's path (measure, then write) refuses it the same way.
  assertFrameError(
    () => codecOf(framing)?.measure(new Uint8Array(5)),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("write_max_frame_len: a 1-byte header cannot say 256, a 2-byte header 65536", () => {
  assertEquals(encodeFrame(new Uint8Array(255), { headerBytes: 1 })[0], 255);
  assertFrameError(
    () => encodeFrame(new Uint8Array(256), { headerBytes: 1 }),
    "FRAME_TOO_LARGE",
  );
  // Even when maxFrameBytes says more: the header width wins.
  assertFrameError(
    () =>
      encodeFrame(new Uint8Array(256), { headerBytes: 1, maxFrameBytes: 1000 }),
    "FRAME_TOO_LARGE",
  );
  assertEquals(
    encodeFrame(new Uint8Array(65535), { headerBytes: 2 }).length,
    65537,
  );
  assertFrameError(
    () =>
      encodeFrame(new Uint8Array(65536), {
        headerBytes: 2,
        littleEndian: true,
      }),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("decodeFrames: a header over the limit throws", () => {
  const bytes = concat([encodeFrame(utf8("ok")), new Uint8Array([0, 0, 1, 0])]);
  assertFrameError(
    () => decodeFrames(bytes, { maxFrameBytes: 255 }),
    "FRAME_TOO_LARGE",
  );
  assertEquals(decodeFrames(bytes, { maxFrameBytes: 256 }).frames.map(text), [
    "ok",
  ]);
});

// ---------------------------------------------------------------------------
// Bad options and bad values

Deno.test("lengthPrefixed: headerBytes other than 1, 2, 3, 4, 8 is a RangeError", () => {
  for (const headerBytes of [0, 5, 6, 16, 4.5]) {
    const error: RangeError = assertThrows(
      () => lengthPrefixed({ headerBytes } as unknown as LengthPrefixOptions),
      RangeError,
    );
    assertStringIncludes(error.message, String(headerBytes));
  }
  assertThrows(
    () =>
      encodeFrame(
        new Uint8Array(1),
        { headerBytes: 7 } as unknown as LengthPrefixOptions,
      ),
    RangeError,
  );
});

// --- the byte-order hint ---------------------------------------------------

Deno.test("byte-order hint: lengthPrefixed() reading struct.pack('i', 37) says it would be 37 little-endian", async () => {
  // Python on x86 and ARM: native order is little-endian.
  const packed = fromHex(
    await python(
      "import struct; print((struct.pack('i', 37) + b'x' * 37).hex())",
    ),
  );
  const message = frameErrorMessage(
    () => lengthPrefixed().decode(packed, 0),
    "FRAME_TOO_LARGE",
  );
  assertEquals(
    message,
    `Cannot decode frame: header announces: ${0x25000000} bytes, limit is 16777216${
      LE_HINT(37)
    }`,
  );
});

Deno.test("byte-order hint: lengthPrefixed({ littleEndian: true }) reading struct.pack('!i', 37) says it would be 37 big-endian", async () => {
  const packed = fromHex(
    await python(
      "import struct; print((struct.pack('!i', 37) + b'x' * 37).hex())",
    ),
  );
  const message = frameErrorMessage(
    () => lengthPrefixed({ littleEndian: true }).decode(packed, 0),
    "FRAME_TOO_LARGE",
  );
  assertEquals(
    message,
    `Cannot decode frame: header announces: ${0x25000000} bytes, limit is 16777216${
      BE_HINT(37)
    }`,
  );
});

Deno.test("byte-order hint: none when the other order is over the limit too", () => {
  for (const littleEndian of [false, true]) {
    const framing = lengthPrefixed({ littleEndian, maxFrameBytes: 1000 });
    // 0x01000001 either way round: over 1000 both ways.
    const message = frameErrorMessage(
      () => framing.decode(fromHex("01000001"), 0),
      "FRAME_TOO_LARGE",
    );
    assertEquals(
      message,
      "Cannot decode frame: header announces: 16777217 bytes, limit is 1000",
    );
    // 1001 bytes read as written, 0xe9030000 the other way: no hint.
    assertEquals(
      frameErrorMessage(
        () => framing.decode(u32(1001, littleEndian), 0),
        "FRAME_TOO_LARGE",
      ),
      "Cannot decode frame: header announces: 1001 bytes, limit is 1000",
    );
  }
});

Deno.test("byte-order hint: the other order at exactly the limit gets it, one over does not", () => {
  const framing = lengthPrefixed({ maxFrameBytes: 300 });
  assertStringIncludes(
    frameErrorMessage(
      () => framing.decode(u32(300, true), 0),
      "FRAME_TOO_LARGE",
    ),
    LE_HINT(300),
  );
  assertEquals(
    frameErrorMessage(
      () => framing.decode(u32(301, true), 0),
      "FRAME_TOO_LARGE",
    ),
    `Cannot decode frame: header announces: ${0x2d010000} bytes, limit is 300`,
  );
});

Deno.test("byte-order hint: only for 4-byte lengths (2, 3 and 8 bytes say nothing of it)", () => {
  const cases: [2 | 3 | 8, string][] = [
    [2, "2500"], // 9472 big-endian, 37 little-endian
    [3, "250000"],
    [8, "2500000000000000"],
  ];
  for (const [headerBytes, header] of cases) {
    const message = frameErrorMessage(
      () =>
        lengthPrefixed({ headerBytes, maxFrameBytes: 100 }).decode(
          fromHex(header),
          0,
        ),
      "FRAME_TOO_LARGE",
    );
    assertEquals(message.includes("read little-endian"), false, message);
    assertStringIncludes(message, "limit is 100");
  }
});

Deno.test("byte-order hint: with lengthIncludesHeader it counts the payload, as the limit does", () => {
  // 37 bytes of payload: the length says 41, written little-endian.
  const framing = lengthPrefixed({ lengthIncludesHeader: true });
  assertEquals(
    frameErrorMessage(
      () => framing.decode(u32(41, true), 0),
      "FRAME_TOO_LARGE",
    ),
    `Cannot decode frame: header announces: ${
      0x29000000 - 4
    } bytes, limit is 16777216${LE_HINT(37)}`,
  );
  // A length of 2 read the other way (smaller than the header): no hint.
  assertEquals(
    frameErrorMessage(
      () => framing.decode(u32(2, true), 0),
      "FRAME_TOO_LARGE",
    ).includes("read little-endian"),
    false,
  );
});

Deno.test("byte-order hint: the decode driver throws the same message, at any split", () => {
  const bytes = concat([u32(5, true), utf8("hello")]);
  for (let split = 1; split < bytes.length; split++) {
    const decoder = new FrameDecoder(lengthPrefixed());
    const error: FrameError = assertThrows(() => {
      decoder.push(bytes.subarray(0, split));
      decoder.push(bytes.subarray(split));
    }, FrameError);
    assertEquals(error.code, "FRAME_TOO_LARGE");
    assertStringIncludes(error.message, LE_HINT(5), `split at ${split}`);
  }
});
