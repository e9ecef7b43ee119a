// What the codecs do for peers written from the Python tutorials (issue #14):
// `message({ sizeKey })` for the `{"filename", "filesize"}` upload header, and
// the byte-order hint in FRAME_TOO_LARGE when a 4-byte length was written in
// the other byte order (`struct.pack("i")` against network order, or the
// reverse). Bytes are checked against Python's own `struct` and `json`.

import {
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  lengthPrefixed,
  message,
} from "../framing.ts";
import {
  assertEquals,
  assertStringIncludes,
  assertThrows,
  concat,
} from "./_helpers/assert.ts";
import { fromHex, hex, text, utf8 } from "./_helpers/bytes.ts";
import { python } from "./_helpers/python.ts";

/** Asserts `fn` throws a FrameError with `code`; returns its message. */
function frameErrorMessage(fn: () => unknown, code: FrameErrorCode): string {
  const error: FrameError = assertThrows(fn, FrameError);
  assertEquals(error.code, code, error.message);
  return error.message;
}

/** A 4-byte length in either byte order. */
function u32(length: number, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, length, littleEndian);
  return bytes;
}

const LE_HINT = (n: number) =>
  ` (read little-endian it would be ${n} bytes: does the peer use struct.pack("i")?)`;
const BE_HINT = (n: number) =>
  ` (read big-endian it would be ${n} bytes: does the peer use struct.pack("!i")?)`;

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

Deno.test("byte-order hint: message()'s header length, both ways round", () => {
  const json = utf8('{"size":0}');
  assertEquals(
    frameErrorMessage(
      () => message().decode(concat([u32(json.length, true), json]), 0),
      "FRAME_TOO_LARGE",
    ),
    `Cannot decode message: header length announces: ${0x0a000000} bytes, limit is 65536${
      LE_HINT(10)
    }`,
  );
  assertEquals(
    frameErrorMessage(
      () =>
        message({ littleEndian: true }).decode(
          concat([u32(json.length, false), json]),
          0,
        ),
      "FRAME_TOO_LARGE",
    ),
    `Cannot decode message: header length announces: ${0x0a000000} bytes, limit is 65536${
      BE_HINT(10)
    }`,
  );
  // The head alone, and no hint when the other order is over the limit too.
  assertStringIncludes(
    frameErrorMessage(
      () => message().head.decode(u32(10, true), 0),
      "FRAME_TOO_LARGE",
    ),
    LE_HINT(10),
  );
  assertEquals(
    frameErrorMessage(
      () => message({ maxHeaderBytes: 100 }).decode(u32(101, false), 0),
      "FRAME_TOO_LARGE",
    ),
    "Cannot decode message: header length announces: 101 bytes, limit is 100",
  );
});

Deno.test("byte-order hint: a body size over maxBodyBytes is not about byte order", () => {
  const json = utf8('{"size":1000}');
  const message_ = frameErrorMessage(
    () =>
      message({ maxBodyBytes: 10 }).decode(
        concat([u32(json.length, false), json]),
        0,
      ),
    "FRAME_TOO_LARGE",
  );
  assertEquals(
    message_,
    "Cannot decode message: header announces a body of: 1000 bytes, limit is 10",
  );
});

// --- message({ sizeKey }) -----------------------------------------------------

/** The tutorial's upload head and body, as Python writes them (hex). */
const TUTORIAL_UPLOAD = `
import json, struct
dic = {'filename': 'a.txt', 'filesize': 3}
b_dic = json.dumps(dic).encode('utf-8')
print((struct.pack('i', len(b_dic)) + b_dic + b'abc').hex())
`;

Deno.test("sizeKey: message({ littleEndian: true, sizeKey: 'filesize' }) decodes the tutorial's upload from Python", async () => {
  const bytes = fromHex(await python(TUTORIAL_UPLOAD));
  const decoded = message({ littleEndian: true, sizeKey: "filesize" })
    .decode(bytes, 0);
  assertEquals(decoded?.value.header, { filename: "a.txt", filesize: 3 });
  assertEquals(text(decoded!.value.body), "abc");
  assertEquals(decoded?.next, bytes.length);
  // The head alone stops before the body.
  const head = message({ littleEndian: true, sizeKey: "filesize" }).head
    .decode(bytes, 0);
  assertEquals(head?.value, { filename: "a.txt", filesize: 3 });
  assertEquals(head?.next, bytes.length - 3);
});

Deno.test("sizeKey: encode writes that key only, and Python reads it back", async () => {
  const framing = message({ littleEndian: true, sizeKey: "filesize" });
  const bytes = framing.encode({
    header: { filename: "a.txt" },
    body: utf8("abc"),
  });
  assertEquals(
    text(bytes.subarray(4, bytes.length - 3)),
    '{"filename":"a.txt","filesize":3}',
  );
  const read = await python(
    `import json, struct, sys
data = bytes.fromhex(sys.argv[1])
n = struct.unpack('i', data[:4])[0]
dic = json.loads(data[4:4 + n].decode('utf-8'))
print(dic['filename'], dic['filesize'], data[4 + n:4 + n + dic['filesize']].decode())`,
    hex(bytes),
  );
  assertEquals(read, "a.txt 3 abc");
  // A `size` the caller put in the header is its own data, not the length.
  const kept = framing.encode({ header: { size: "big" }, body: utf8("xy") });
  assertEquals(
    framing.decode(kept, 0)?.value.header,
    { size: "big", filesize: 2 },
  );
});

Deno.test("sizeKey: head.encode needs that key, and says so by name", () => {
  const head = message({ sizeKey: "filesize" }).head;
  const error = assertThrows(
    () => head.encode({ filename: "a.txt", size: 3 }),
    TypeError,
  );
  assertEquals(
    error.message,
    'Cannot encode message head: "filesize" must be a non-negative safe integer, got undefined',
  );
  const bytes = head.encode({ filename: "a.txt", filesize: 3 });
  assertEquals(head.decode(bytes, 0)?.value, {
    filename: "a.txt",
    filesize: 3,
  });
});

Deno.test("sizeKey: a header without it (or with a bad one) is BAD_HEADER naming the key", () => {
  const framing = message({ sizeKey: "filesize" });
  const frame = (json: string) => {
    const bytes = utf8(json);
    return concat([u32(bytes.length, false), bytes]);
  };
  assertEquals(
    frameErrorMessage(
      () => framing.decode(frame('{"filename":"a","size":3}'), 0),
      "BAD_HEADER",
    ),
    'Cannot decode message: "filesize" must be a non-negative safe integer, got undefined',
  );
  assertEquals(
    frameErrorMessage(
      () => framing.head.decode(frame('{"filesize":-1}'), 0),
      "BAD_HEADER",
    ),
    'Cannot decode message: "filesize" must be a non-negative safe integer, got -1',
  );
  // The default key is still "size".
  assertStringIncludes(
    frameErrorMessage(
      () => message().decode(frame('{"filesize":3}'), 0),
      "BAD_HEADER",
    ),
    '"size" must be',
  );
});

Deno.test("sizeKey: a body over maxBodyBytes is FRAME_TOO_LARGE before it arrives", () => {
  const json = utf8('{"filename":"big","filesize":11}');
  const framing = message({ sizeKey: "filesize", maxBodyBytes: 10 });
  assertEquals(
    frameErrorMessage(
      () => framing.decode(concat([u32(json.length, false), json]), 0),
      "FRAME_TOO_LARGE",
    ),
    "Cannot decode message: header announces a body of: 11 bytes, limit is 10",
  );
});

Deno.test("sizeKey: the body is a view, and any split of the stream gives the same message", () => {
  const framing = message({ littleEndian: true, sizeKey: "filesize" });
  const one = framing.encode({ header: { filename: "a" }, body: utf8("xyz") });
  const two = framing.encode({ header: { filename: "b" }, body: utf8("") });
  const stream = concat([one, two]);
  const whole = framing.decode(stream, 0)!;
  assertEquals(whole.value.body.buffer, stream.buffer);
  for (let split = 0; split <= stream.length; split++) {
    const decoder = new FrameDecoder(framing);
    const values = [
      ...decoder.push(stream.subarray(0, split)),
      ...decoder.push(stream.subarray(split)),
    ];
    decoder.end();
    assertEquals(
      values.map((value) => [value.header, text(value.body)]),
      [[{ filename: "a", filesize: 3 }, "xyz"], [
        { filename: "b", filesize: 0 },
        "",
      ]],
      `split at ${split}`,
    );
  }
});

Deno.test("sizeKey: an empty or non-string key is a TypeError", () => {
  assertEquals(
    assertThrows(() => message({ sizeKey: "" }), TypeError).message,
    'Cannot create framing: sizeKey must be a non-empty string, got ""',
  );
  assertEquals(
    assertThrows(
      () => message({ sizeKey: 5 as unknown as string }),
      TypeError,
    ).message,
    "Cannot create framing: sizeKey must be a non-empty string, got number",
  );
});
