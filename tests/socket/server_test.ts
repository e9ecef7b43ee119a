// Tests of socket/server.ts: StreamServer (accept, close, iteration).

import { connect, listen, type TcpSocket, tryConnect } from "../../mod.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { within } from "../_helpers/async.ts";
import { text } from "../_helpers/bytes.ts";
import { socketError } from "../_helpers/sockets.ts";

Deno.test("TcpServer.close: a pending accept fails ECLOSED, later ones too; closing again is harmless", async () => {
  const server = listen();
  const accepting = server.accept();
  server.close();
  await socketError(accepting, "ECLOSED");
  await socketError(server.accept(), "ECLOSED");
  server.close();
  await server[Symbol.asyncDispose]();
  const result = await tryConnect({ port: server.addr.port });
  assert(!result.ok && result.error.code === "ECONNREFUSED");
});

Deno.test("TcpServer: closing it ends a for await loop over it", async () => {
  const server = listen();
  const clients: TcpSocket[] = [];
  const accepted: TcpSocket[] = [];
  const loop = (async () => {
    for await (const socket of server) {
      accepted.push(socket);
      if (accepted.length === 2) server.close();
    }
  })();
  for (let i = 0; i < 2; i++) {
    clients.push(await connect({ port: server.addr.port }));
  }
  await within(loop, 2000, "the loop to end after close()");
  assertEquals(accepted.length, 2);
  for (const socket of [...clients, ...accepted]) socket.close();
});

Deno.test("TcpServer: breaking out of for await leaves it listening", async () => {
  await using server = listen();
  await using first = await connect({ port: server.addr.port });
  for await (const socket of server) {
    assertEquals(socket.remoteAddr.port, first.localAddr.port);
    socket.close();
    break;
  }
  await using second = await connect({ port: server.addr.port });
  await using peer = await within(server.accept(), 1000, "a second accept");
  assertEquals(peer.remoteAddr.port, second.localAddr.port);
  // A new loop over the same server picks up the next connection.
  await using third = await connect({ port: server.addr.port });
  for await (const socket of server) {
    assertEquals(socket.remoteAddr.port, third.localAddr.port);
    socket.close();
    break;
  }
});

Deno.test("await using: the server and a client are closed at the end of their blocks", async () => {
  let port = 0;
  {
    await using server = listen();
    port = server.addr.port;
  }
  // Nothing listens on that port any more.
  const refused = await tryConnect({ port });
  assert(!refused.ok && refused.error.code === "ECONNREFUSED");

  await using server = listen();
  let peer: TcpSocket;
  {
    await using client = await connect({ port: server.addr.port });
    peer = await server.accept();
    await client.send("bye");
  }
  // The client's bytes were flushed, then its FIN arrived.
  assertEquals(text(await peer.recvExactly(3)), "bye");
  assertEquals(await within(peer.recv(), 1000, "end of stream"), null);
  peer.close();
});

// ---------------------------------------------------------------------------
// 4, 5, 10. Servers and addresses

Deno.test("accept: two concurrent accept() calls each get their own connection, in call order", async () => {
  using server = listen();
  const first = server.accept();
  const second = server.accept();
  await using a = await connect({ port: server.addr.port });
  await using peerA = await within(first, 2000, "first accept");
  await using b = await connect({ port: server.addr.port });
  await using peerB = await within(second, 2000, "second accept");
  assertEquals(peerA.remoteAddr.port, a.localAddr.port);
  assertEquals(peerB.remoteAddr.port, b.localAddr.port);
});

Deno.test("accept: close() rejects every queued accept with ECLOSED", async () => {
  const server = listen();
  const pending = [server.accept(), server.accept(), server.accept()];
  server.close();
  for (const accept of pending) {
    await within(socketError(accept, "ECLOSED"), 1000, "a queued accept");
  }
});

Deno.test("using: a listener closes with `using` (no await), like a UDP socket", async () => {
  let port: number;
  {
    using server = listen();
    port = server.addr.port;
  }
  const result = await tryConnect({ port });
  assertEquals(result.ok ? "connected" : result.error.code, "ECONNREFUSED");
});
