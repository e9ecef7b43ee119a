// framing/message.ts: message(). Exact layout against Python (struct length,
// UTF-8 JSON header, body), the head for streamed bodies, sizeKey for the
// tutorials' `{"filename", "filesize"}` upload header, every header and body
// error, and the byte-order hint in its header length.

import { FrameDecoder, message } from "../../framing.ts";
import { codecOf } from "../../framing/types.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
  concat,
} from "../_helpers/assert.ts";
import { fromHex, hex, text, utf8 } from "../_helpers/bytes.ts";
import {
  assertFrameError,
  BE_HINT,
  decodeAll,
  frameErrorMessage,
  LE_HINT,
  pattern,
  rawMessage,
  u32,
} from "../_helpers/framing.ts";
import { python } from "../_helpers/python.ts";
import {
  connect,
  DecoderStream,
  EncoderStream,
  listen,
  type Message,
} from "../../mod.ts";

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

Deno.test("message: exact layout matches Python (struct length + UTF-8 JSON + body)", async () => {
  const script = "import json, struct, sys\n" +
    "order = sys.argv[1]\n" +
    'header = json.dumps({"name": "ü.txt", "size": 2}, ensure_ascii=False, separators=(",", ":")).encode()\n' +
    'print((struct.pack(order + "I", len(header)) + header + b"hi").hex())';
  for (const [order, littleEndian] of [[">", false], ["<", true]] as const) {
    const framing = message({ littleEndian });
    const bytes = framing.encode({
      header: { name: "ü.txt" },
      body: utf8("hi"),
    });
    assertEquals(hex(bytes), await python(script, order), `order ${order}`);
  }
  // The header length counts UTF-8 bytes, not characters: "ü" is 2 bytes.
  const json = '{"name":"ü.txt","size":2}';
  assertEquals(
    hex(message().encode({ header: { name: "ü.txt" }, body: utf8("hi") })),
    hex(
      concat([new Uint8Array([0, 0, 0, utf8(json).length]), utf8(json + "hi")]),
    ),
  );
  assertEquals(utf8(json).length, json.length + 1);
});

Deno.test("message: encode sets size from the body, overriding a stale one", () => {
  const framing = message();
  const bytes = framing.encode({
    header: { size: 99, name: "x" },
    body: utf8("abc"),
  });
  const decoded = framing.decode(bytes, 0);
  assertEquals(decoded?.value.header, { size: 3, name: "x" });
  assertEquals(decoded && text(decoded.value.body), "abc");
  assertEquals(decoded?.next, bytes.length);
});

Deno.test("message: an empty body and a header of only size are a message", () => {
  const framing = message();
  const bytes = framing.encode({ header: {}, body: new Uint8Array(0) });
  assertEquals(text(bytes.subarray(4)), '{"size":0}');
  const values = decodeAll(framing, [bytes, bytes]);
  assertEquals(values, [
    { header: { size: 0 }, body: new Uint8Array(0) },
    { header: { size: 0 }, body: new Uint8Array(0) },
  ]);
});

// ---------------------------------------------------------------------------
// message().head: a header framed alone, the body streamed

Deno.test("message head: encode a head with size, stream the body, decode the head", () => {
  const framing = message({ maxBodyBytes: 4 });
  const body = pattern(10); // over maxBodyBytes: this body is streamed
  const head = framing.head.encode({ name: "big.bin", size: body.length });
  assertEquals(text(head.subarray(4)), '{"name":"big.bin","size":10}');
  assertEquals(hex(head.subarray(0, 4)), "0000001c");

  // The receiver gets the head, then reads `size` bytes of body as it likes.
  const wire = concat([head, body]);
  const decoded = framing.head.decode(wire, 0);
  assertEquals(decoded?.value, { name: "big.bin", size: 10 });
  assertEquals(decoded?.next, head.length);
  const size = decoded!.value.size as number;
  assertEquals(wire.subarray(decoded!.next, decoded!.next + size), body);

  // Head + body is the same wire format as message(): a receiver with a
  // larger limit reads it as one message.
  assertEquals(message().decode(wire, 0)?.value, {
    header: { name: "big.bin", size: 10 },
    body,
  });
});

Deno.test("message head: decoding waits for the whole header, not the body", () => {
  const head = message().head;
  const bytes = head.encode({ size: 5 });
  const decoder = new FrameDecoder(head);
  assertEquals(decoder.push(bytes.subarray(0, bytes.length - 1)), []);
  assertEquals(decoder.push(bytes.subarray(bytes.length - 1)), [{ size: 5 }]);
  assertEquals(decoder.buffered, 0);
});

// ---------------------------------------------------------------------------
// FRAME_TOO_LARGE: message

Deno.test("message: a header length over maxHeaderBytes throws with only the length read", () => {
  const decoder = new FrameDecoder(message({ maxHeaderBytes: 256 }));
  assertEquals(decoder.push(new Uint8Array([0, 0, 1])), []);
  const error = assertFrameError(
    () => decoder.push(new Uint8Array([1])),
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "257");
  // Exactly the limit is fine.
  const json = `{"size":0,"pad":"${"x".repeat(256 - 19)}"}`;
  assertEquals(utf8(json).length, 256);
  assertEquals(
    new FrameDecoder(message({ maxHeaderBytes: 256 })).push(rawMessage(json))
      .length,
    1,
  );
  // Little-endian lengths are checked the same way.
  assertFrameError(
    () =>
      message({ littleEndian: true, maxHeaderBytes: 256 }).decode(
        new Uint8Array([1, 1, 0, 0]),
        0,
      ),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("message: a size over maxBodyBytes throws before the body arrives", () => {
  const framing = message({ maxBodyBytes: 10 });
  const decoder = new FrameDecoder(framing);
  const error = assertFrameError(
    () => decoder.push(rawMessage('{"size":11}')), // header only, no body
    "FRAME_TOO_LARGE",
  );
  assertStringIncludes(error.message, "11");
  // A body of exactly maxBodyBytes is fine.
  const ok = new FrameDecoder(framing);
  assertEquals(ok.push(rawMessage('{"size":10}')), []);
  assertEquals(ok.push(new Uint8Array(10)).length, 1);
});

Deno.test("message: encoding a body over maxBodyBytes or a header over maxHeaderBytes throws", () => {
  assertFrameError(
    () =>
      message({ maxBodyBytes: 2 }).encode({
        header: {},
        body: new Uint8Array(3),
      }),
    "FRAME_TOO_LARGE",
  );
  assertFrameError(
    () =>
      message({ maxHeaderBytes: 10 }).encode({
        header: { name: "long" },
        body: new Uint8Array(0),
      }),
    "FRAME_TOO_LARGE",
  );
  assertFrameError(
    () =>
      message({ maxHeaderBytes: 10 }).head.encode({ name: "long", size: 1 }),
    "FRAME_TOO_LARGE",
  );
});

// ---------------------------------------------------------------------------
// BAD_HEADER

const badHeaders: [string, string | Uint8Array][] = [
  ["not JSON", "{size:3}"],
  ["empty", ""],
  ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d])],
  ["an array", "[3]"],
  ["a number", "3"],
  ["null", "null"],
  ["a string", '"size"'],
  ["missing size", '{"name":"a"}'],
  ["size -1", '{"size":-1}'],
  ["size 1.5", '{"size":1.5}'],
  ['size "3"', '{"size":"3"}'],
  ["size 2**53", '{"size":9007199254740992}'],
  ["size null", '{"size":null}'],
];

for (const [what, json] of badHeaders) {
  Deno.test(`message: a header that is ${what} is BAD_HEADER`, () => {
    const bytes = rawMessage(json, utf8("abc"));
    assertFrameError(() => message().decode(bytes, 0), "BAD_HEADER");
    assertFrameError(() => message().head.decode(bytes, 0), "BAD_HEADER");
    assertFrameError(
      () => new FrameDecoder(message()).push(bytes),
      "BAD_HEADER",
    );
  });
}

Deno.test("message: BAD_HEADER says what was wrong and keeps the parse error as cause", () => {
  const notJson = assertFrameError(
    () => message().decode(rawMessage("{x"), 0),
    "BAD_HEADER",
  );
  assertInstanceOf(notJson.cause, Error);
  const array = assertFrameError(
    () => message().decode(rawMessage("[]"), 0),
    "BAD_HEADER",
  );
  assertStringIncludes(array.message, "array");
  const size = assertFrameError(
    () => message().decode(rawMessage('{"size":"3"}'), 0),
    "BAD_HEADER",
  );
  assertStringIncludes(size.message, '"3"');
});

Deno.test("message: the largest safe size is a valid header (2**53 - 1)", () => {
  const state = { scanned: 0, need: 0 };
  const bytes = rawMessage(`{"size":${Number.MAX_SAFE_INTEGER}}`);
  assertEquals(message().head.decode(bytes, 0)?.value, {
    size: Number.MAX_SAFE_INTEGER,
  });
  assertFrameError(
    () => codecOf(message())?.decode(bytes, 0, state),
    "FRAME_TOO_LARGE",
  );
});

Deno.test("message: a header that is not an object, or a head without size, is a TypeError", () => {
  const body = new Uint8Array(0);
  for (const header of [null, [1], "x", 3]) {
    assertThrows(
      () =>
        message().encode({
          header: header as unknown as Record<string, unknown>,
          body,
        }),
      TypeError,
    );
  }
  assertThrows(() => message().head.encode({ name: "a" }), TypeError, "size");
  assertThrows(() => message().head.encode({ size: -1 }), TypeError, "size");
  assertThrows(() => message().head.encode({ size: "3" }), TypeError, "size");
});

// --- the size on the wire --------------------------------------------------
// message() encodes what it decodes: the size on the wire is the body's
// length whatever the header object's toJSON, getters or prototype say
// (DESIGN: "message() writes the size of the body it sends"). A header that
// announced a shorter body would make the rest of the body read as further
// frames: frame smuggling. Every case goes through a real decoder, and the
// socket cases through a real connection.

/**
 * 17 bytes whose tail is a whole message of its own: a header announcing 3
 * bytes would make "abc" one message and `{"size":0}` a second one.
 */
const BODY = utf8('abc\0\0\0\x0a{"size":0}');
const SIZE = BODY.length;

/** Decodes `bytes` to the end: every message, and nothing left over. */
function decodeEvery(
  framing: ReturnType<typeof message>,
  bytes: Uint8Array,
): Message[] {
  const decoder = new FrameDecoder(framing);
  const values = decoder.push(bytes);
  decoder.end(); // throws INCOMPLETE_FRAME if anything is left over
  return values;
}

/** Headers that say the body is 3 bytes long while it is 17. */
const LYING_HEADERS: [string, () => Record<string, unknown>][] = [
  ["an own toJSON returning { size: 3 }", () => ({
    name: "a.txt",
    toJSON: () => ({ name: "a.txt", size: 3 }),
  })],
  ["a toJSON on the prototype (a class)", () => {
    class Header {
      name = "a.txt";
      toJSON() {
        return { name: this.name, size: 3 };
      }
    }
    return new Header() as unknown as Record<string, unknown>;
  }],
  ["a toJSON returning an object with a toJSON of its own", () => ({
    toJSON: () => ({ name: "a.txt", toJSON: () => ({ size: 3 }) }),
  })],
  ["an own enumerable getter for size", () => ({
    name: "a.txt",
    get size() {
      return 3;
    },
  })],
  ["a getter on the prototype (a class instance)", () => {
    class Header {
      name = "a.txt";
      get size() {
        return 3;
      }
    }
    return new Header() as unknown as Record<string, unknown>;
  }],
  ["a size that changes on every read", () => {
    let reads = 0;
    return {
      name: "a.txt",
      get size() {
        return reads++ === 0 ? SIZE : 3;
      },
    };
  }],
  ["a plain size: 3", () => ({ name: "a.txt", size: 3 })],
  ["a toJSON returning a string that looks like more JSON", () => ({
    name: "a.txt",
    size: SIZE,
    nested: { toJSON: () => '","size":3,"x":"' },
  })],
];

for (const [name, make] of LYING_HEADERS) {
  Deno.test(`message().encode: ${name}: one message, size 17, body intact`, () => {
    const framing = message();
    const bytes = framing.encode({ header: make(), body: BODY });
    const values = decodeEvery(framing, bytes);
    assertEquals(values.length, 1);
    assertEquals(values[0].header.size, SIZE);
    assertEquals(values[0].header.name, "a.txt");
    assertEquals(values[0].body, BODY);
  });
}

Deno.test("message().encode: the header is written as JSON.stringify writes it, with size set last", () => {
  const framing = message();
  const header = {
    name: "a.txt",
    when: new Date(0), // a nested toJSON still applies
    skipped: undefined,
    toJSON() {
      return { name: this.name, when: this.when, size: 3, extra: true };
    },
  };
  const [value] = decodeEvery(framing, framing.encode({ header, body: BODY }));
  assertEquals(value.header, {
    name: "a.txt",
    when: "1970-01-01T00:00:00.000Z",
    size: SIZE,
    extra: true,
  });
});

Deno.test("message({ sizeKey: 'filesize' }).encode: a toJSON's filesize is replaced too", () => {
  const framing = message({ littleEndian: true, sizeKey: "filesize" });
  const header = { toJSON: () => ({ filename: "a", filesize: 1 }) };
  const [value] = decodeEvery(framing, framing.encode({ header, body: BODY }));
  assertEquals(value.header, { filename: "a", filesize: SIZE });
  assertEquals(value.body, BODY);
});

Deno.test("message().encode: a header whose toJSON gives no object is a TypeError", () => {
  const framing = message();
  for (
    const header of [
      new Date(0),
      { toJSON: () => "size" },
      { toJSON: () => [1, 2] },
      { toJSON: () => null },
      { toJSON: () => undefined },
    ]
  ) {
    const error = assertThrows(
      () =>
        framing.encode({
          header: header as unknown as Record<string, unknown>,
          body: BODY,
        }),
      TypeError,
    );
    assertStringIncludes(error.message, "must serialise to a JSON object");
  }
});

Deno.test("message().head.encode: the size written is the header's size, not its toJSON's", () => {
  const framing = message();
  const head = framing.head.encode({
    name: "big",
    size: SIZE,
    toJSON: () => ({ name: "big", size: 3 }),
  });
  const decoder = new FrameDecoder(framing);
  // The head, then the 17 bytes streamed after it: one message.
  const values = decoder.push(new Uint8Array([...head, ...BODY]));
  decoder.end();
  assertEquals(values.length, 1);
  assertEquals(values[0].header, { name: "big", size: SIZE });
  assertEquals(values[0].body, BODY);
});

Deno.test("EncoderStream into DecoderStream: lying headers come out as the messages sent", async () => {
  const framing = message();
  const sent = LYING_HEADERS.map(([, make]) => ({
    header: make(),
    body: BODY,
  }));
  const received: Message[] = [];
  await ReadableStream.from(sent)
    .pipeThrough(new EncoderStream(framing))
    .pipeThrough(new DecoderStream(framing))
    .pipeTo(
      new WritableStream({ write: (value) => void received.push(value) }),
    );
  assertEquals(received.length, sent.length);
  for (const value of received) {
    assertEquals(value.header.size, SIZE);
    assertEquals(value.body, BODY);
  }
});

Deno.test("sendFrame/sendFrames with message(): a toJSON announcing 3 bytes cannot split a 17-byte body into two frames on the wire", async () => {
  const framing = message();
  using server = listen({ port: 0, framing });
  const accepted = server.accept();
  await using client = await connect({ port: server.addr.port, framing });
  await using peer = await accepted;
  const pair = { client, peer };
  const smuggler = {
    toJSON: () => ({ size: 3 }),
  };
  await pair.client.sendFrame({ header: smuggler, body: BODY });
  await pair.client.sendFrames([
    { header: smuggler, body: BODY },
    { header: { size: 0 }, body: utf8("after") },
  ]);
  // A header the encoder refuses leaves the socket usable.
  const refused = await pair.client.sendFrame({
    header: { toJSON: () => "x" },
    body: BODY,
  }).catch((error) => error);
  assertInstanceOf(refused, TypeError);
  await pair.client.closeWrite();
  pair.peer.timeout = 5000;
  const frames: Message[] = [];
  for await (const frame of pair.peer.frames()) frames.push(frame);
  assertEquals(frames.map((frame) => frame.header), [
    { size: SIZE },
    { size: SIZE },
    { size: 5 },
  ]);
  assertEquals(frames[0].body, BODY);
  assertEquals(frames[1].body, BODY);
  assert(new TextDecoder().decode(frames[2].body) === "after");
});
