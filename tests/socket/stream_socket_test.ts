// The socket's framing types its frames (issue #12, item 5). Most of this file
// is checked by the compiler: `deno test` and `deno task check` type-check it,
// so a regression in the types fails the run before any test executes. The
// `@ts-expect-error` lines must stay errors: if the types loosen, the
// directive itself becomes the error.

import {
  connect,
  delimited,
  listen,
  type Message,
  message,
  serve,
  type TcpServer,
  type TcpSocket,
  tryConnect,
} from "../../mod.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { text, utf8 } from "../_helpers/bytes.ts";

/** True when A and B are the same type. */
type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends
  (<X>() => X extends B ? 1 : 2) ? true : false;
/** Compiles only when its argument is `true`. */
function sameType<T extends true>(_proof?: T): void {}

Deno.test("typed framing: connect({ framing: message() }) is a socket of Messages, end to end through serve", async () => {
  const server = serve({ port: 0, framing: message() }, async (socket) => {
    sameType<Same<typeof socket, TcpSocket<Message>>>();
    for await (const request of socket.frames()) {
      sameType<Same<typeof request, Message>>();
      await socket.sendFrame({
        header: { ...request.header, echoed: true },
        body: request.body,
      });
    }
  });
  try {
    await using client = await connect({
      port: server.addr.port,
      framing: message(),
    });
    sameType<Same<typeof client, TcpSocket<Message>>>();
    await client.sendFrame({ header: { name: "a.txt" }, body: utf8("hi") });
    const reply = await client.recvFrame();
    sameType<Same<typeof reply, Message | null>>();
    assertEquals(reply?.header, { name: "a.txt", size: 2, echoed: true });
    assertEquals(text(reply!.body), "hi");
    // Another framing per call types that call alone.
    const batch = await client.recvFrames({ timeout: 10 }).catch(() => null);
    sameType<Same<typeof batch, Message[] | null>>();
  } finally {
    await server.shutdown();
  }
});

Deno.test("typed framing: without a framing the frames are bytes, and a framing per call types that call", async () => {
  await using server = listen();
  sameType<Same<typeof server, TcpServer<Uint8Array>>>();
  await using client = await connect({ port: server.addr.port });
  sameType<Same<typeof client, TcpSocket<Uint8Array>>>();
  await using peer = await server.accept();
  await client.sendFrame(utf8("bytes"));
  await client.sendFrame({ header: {}, body: utf8("m") }, message());
  const bytes = await peer.recvFrame();
  sameType<Same<typeof bytes, Uint8Array | null>>();
  assertEquals(text(bytes!), "bytes");
  const typed = await peer.recvFrame(message());
  sameType<Same<typeof typed, Message | null>>();
  assertEquals(text(typed!.body), "m");
  const lines = listen({ framing: delimited() });
  sameType<Same<typeof lines, TcpServer<Uint8Array>>>();
  lines.close();
  const result = await tryConnect({
    port: server.addr.port,
    framing: message(),
  });
  assert(result.ok);
  sameType<Same<typeof result.socket, TcpSocket<Message>>>();
  result.socket.close();
  (await server.accept()).close();
});
