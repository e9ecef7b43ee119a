// message() encodes what it decodes: the size on the wire is the body's
// length whatever the header object's toJSON, getters or prototype say
// (DESIGN: "message() writes the size of the body it sends"). A header that
// announced a shorter body would make the rest of the body read as further
// frames: frame smuggling. Every case goes through a real decoder, and the
// socket cases through a real connection.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { utf8 } from "../_helpers/bytes.ts";
import {
  connect,
  DecoderStream,
  EncoderStream,
  FrameDecoder,
  listen,
  type Message,
  message,
} from "../../mod.ts";

/**
 * 17 bytes whose tail is a whole message of its own: a header announcing 3
 * bytes would make "abc" one message and `{"size":0}` a second one.
 */
const BODY = utf8('abc\0\0\0\x0a{"size":0}');
const SIZE = BODY.length;

/** Decodes `bytes` to the end: every message, and nothing left over. */
function decodeAll(
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
    const values = decodeAll(framing, bytes);
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
  const [value] = decodeAll(framing, framing.encode({ header, body: BODY }));
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
  const [value] = decodeAll(framing, framing.encode({ header, body: BODY }));
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
