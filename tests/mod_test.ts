// Pins the public API: the names mod.ts and the ./framing entry export, so
// nothing leaks out (a private helper) or disappears by accident. Types are
// erased at run time: the compiler pins them below instead.

import * as mod from "../mod.ts";
import * as framing from "../framing.ts";
import * as tcp from "../tcp.ts";
import * as udp from "../udp.ts";
// DecodeState is internal since the core redesign: a type, so the compiler
// checks its absence (this line fails to compile if it is exported again).
// @ts-expect-error DecodeState is not part of the public API.
import type { DecodeState as _DecodeState } from "../mod.ts";
import type * as Api from "../mod.ts";

/** The exported types, pinned: removing one fails to compile here. */
export type PinnedTypes = [
  Api.BindUdpOptions,
  Api.CallOptions,
  Api.ConnectOptions,
  Api.CrlfLinesOptions,
  Api.Datagram,
  Api.DelimitedOptions,
  Api.FrameErrorCode,
  Api.Framing<unknown>,
  Api.LengthFieldOptions,
  Api.LengthPrefixOptions,
  Api.ListenOptions,
  Api.Message,
  Api.MessageFraming,
  Api.MessageOptions,
  Api.MulticastMembership,
  Api.NetstringOptions,
  Api.ParsedFraming,
  Api.RecvFromOptions,
  Api.Server,
  Api.ServeLoopOptions,
  Api.ServeModule,
  Api.ServeWorkersOptions,
  Api.ServeOptions,
  Api.SocketErrorCode,
  Api.SocketOptions,
  Api.StartTlsOptions,
  Api.StreamServer,
  Api.StreamSocket,
  Api.TcpServer,
  Api.TcpSocket,
  Api.TlsConnectOptions,
  Api.TlsListenOptions,
  Api.Transport,
  Api.UdpAddress,
  Api.UnixConnectOptions,
  Api.UnixListenOptions,
  Api.UnixServeOptions,
  Api.VarintPrefixOptions,
];
import { assertEquals } from "./_helpers/assert.ts";

const FRAMING_VALUES = [
  "DecoderStream",
  "EncoderStream",
  "FrameDecoder",
  "FrameError",
  "crlfLines",
  "decodeFrames",
  "delimited",
  "encodeFrame",
  "lengthField",
  "lengthPrefixed",
  "message",
  "netstring",
  "parseFraming",
  "varintPrefixed",
];

Deno.test("mod.ts exports exactly the public API", () => {
  assertEquals(
    Object.keys(mod).sort(),
    [
      ...FRAMING_VALUES,
      "MAX_DATAGRAM_BYTES",
      "SocketError",
      "StreamServer",
      "StreamSocket",
      "TcpServer",
      "TcpSocket",
      "UdpSocket",
      "bindUdp",
      "connect",
      "listen",
      "serve",
      "serveWorkers",
      "tryConnect",
      "WorkerGroup",
    ].sort(),
  );
});

Deno.test("the ./framing entry exports the codecs and nothing that needs Deno", () => {
  assertEquals(Object.keys(framing).sort(), [...FRAMING_VALUES].sort());
});

Deno.test("the ./tcp and ./udp entries export their part of the API", () => {
  assertEquals(
    Object.keys(tcp).sort(),
    [
      "StreamServer",
      "StreamSocket",
      "TcpServer",
      "TcpSocket",
      "WorkerGroup",
      "connect",
      "listen",
      "serve",
      "serveWorkers",
      "tryConnect",
    ].sort(),
  );
  assertEquals(Object.keys(udp).sort(), [
    "MAX_DATAGRAM_BYTES",
    "UdpSocket",
    "bindUdp",
  ]);
});

Deno.test("the former names TcpSocket and TcpServer are the same classes", () => {
  assertEquals(mod.TcpSocket, mod.StreamSocket);
  assertEquals(mod.TcpServer, mod.StreamServer);
});
