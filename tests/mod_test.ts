// Pins the public API: the names mod.ts and the ./framing entry export, so
// nothing leaks out (a private helper) or disappears by accident. (Types are
// erased at run time; `deno doc --lint` in `deno task check` covers them.)

import * as mod from "../mod.ts";
import * as framing from "../framing/mod.ts";
import { assertEquals } from "./_helpers/assert.ts";

const FRAMING_VALUES = [
  "DecoderStream",
  "EncoderStream",
  "FrameDecoder",
  "FrameError",
  "decodeFrames",
  "delimited",
  "encodeFrame",
  "lengthField",
  "lengthPrefixed",
  "message",
  "netstring",
  "varintPrefixed",
];

Deno.test("mod.ts exports exactly the public API", () => {
  assertEquals(
    Object.keys(mod).sort(),
    [
      ...FRAMING_VALUES,
      "MAX_DATAGRAM_BYTES",
      "SocketError",
      "TcpServer",
      "TcpSocket",
      "UdpSocket",
      "bindUdp",
      "connect",
      "listen",
      "serve",
      "tryConnect",
    ].sort(),
  );
});

Deno.test("the ./framing entry exports the codecs and nothing that needs Deno", () => {
  assertEquals(Object.keys(framing).sort(), [...FRAMING_VALUES].sort());
});
