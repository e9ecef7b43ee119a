// One TLS vocabulary and what the handshake settled on: `serverName` names
// the certificate's host in connect({ tls }) and startTls() alike, and the
// negotiated ALPN protocol is readable on both ends.

import { connect, listen, SocketError } from "../../mod.ts";
import { assertEquals, assertInstanceOf } from "../_helpers/assert.ts";
import { rejection } from "../_helpers/async.ts";
import { CA_CERT, CERT, KEY } from "../_helpers/transports.ts";

Deno.test("alpnProtocol: both ends read the protocol the handshake settled on", async () => {
  await using server = listen({
    tls: { cert: CERT, key: KEY, alpnProtocols: ["h2", "http/1.1"] },
  });
  const accepted = server.accept();
  await using client = await connect({
    hostname: "localhost",
    port: server.addr.port,
    tls: { caCerts: [CA_CERT], alpnProtocols: ["http/1.1"] },
  });
  await using peer = await accepted;
  assertEquals(client.alpnProtocol, "http/1.1");
  assertEquals(peer.alpnProtocol, "http/1.1");
});

Deno.test("alpnProtocol: null over plain TCP and over TLS without ALPN", async () => {
  await using plainServer = listen();
  await using plain = await connect({ port: plainServer.addr.port });
  await using plainPeer = await plainServer.accept();
  assertEquals([plain.alpnProtocol, plainPeer.alpnProtocol], [null, null]);
  await using server = listen({ tls: { cert: CERT, key: KEY } });
  const accepted = server.accept();
  await using client = await connect({
    port: server.addr.port,
    tls: { caCerts: [CA_CERT], serverName: "localhost" },
  });
  await using peer = await accepted;
  assertEquals([client.alpnProtocol, peer.alpnProtocol], [null, null]);
});

Deno.test("startTls: serverName names the certificate's host, as connect({ tls }) does", async () => {
  await using server = listen({
    tls: { cert: CERT, key: KEY, alpnProtocols: ["h2"] },
  });
  const accepted = server.accept();
  // A TLS server from its first byte: STARTTLS with no plaintext exchanged.
  const plain = await connect({ port: server.addr.port });
  await using secure = await plain.startTls({
    caCerts: [CA_CERT],
    serverName: "localhost",
    alpnProtocols: ["h2"],
    timeout: 5000,
  });
  await using peer = await accepted;
  assertEquals(secure.transport, "tls");
  assertEquals(secure.alpnProtocol, "h2");
  await secure.send("over tls");
  assertEquals(new TextDecoder().decode(await peer.recvExactly(8)), "over tls");
});

Deno.test("startTls: a serverName the certificate does not carry is ECERT", async () => {
  await using server = listen({ tls: { cert: CERT, key: KEY } });
  const accepted = rejection(server.accept({ timeout: 500 }));
  const plain = await connect({ port: server.addr.port });
  const error = await rejection(
    plain.startTls({ caCerts: [CA_CERT], serverName: "example.com" }),
  );
  assertInstanceOf(error, SocketError);
  assertEquals(error.code, "ECERT");
  // The server drops the failed client quietly: its accept times out.
  assertEquals((await accepted as SocketError).code, "ETIMEDOUT");
});
