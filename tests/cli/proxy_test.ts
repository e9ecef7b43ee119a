// proxy between real peers: frames survive --split 1 and --delay, what it
// forwards is byte-identical, the log has a line per frame and direction,
// and --reset-after cuts the connection after N frames.

import { runPython } from "../_helpers/python.ts";
import {
  assert,
  assertEquals,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { connect } from "../../mod.ts";
import { PY_ECHO } from "../_helpers/cli_peers.ts";
import { NET, Wire } from "../_helpers/wire.ts";

Deno.test("wire proxy --split 1 --delay: length-prefixed frames survive an echo", async () => {
  await using echo = runPython(PY_ECHO);
  const target = await echo.readLine();
  await using proxy = new Wire(NET, [
    "proxy",
    "--framing",
    "length",
    "--split",
    "1",
    "--delay",
    "1",
    "--seed",
    "7",
    "127.0.0.1:0",
    `127.0.0.1:${target}`,
  ]);
  const port = await proxy.port();
  await using socket = await connect({ port });
  const words = ["hello", "", "x".repeat(100), "world"];
  for (const word of words) {
    await socket.sendFrame(new TextEncoder().encode(word));
  }
  for (const word of words) {
    const frame = await socket.recvFrame({ timeout: 20_000 });
    assertEquals(new TextDecoder().decode(frame!), word);
  }
  await proxy.waitFor(/s>c 5 "world"/, "stdout");
  const log = proxy.stdout.split("\n").filter((l) => l !== "");
  assertEquals(log.filter((l) => l.includes(" c>s ")).length, 4);
  assert(/^\d\d:\d\d:\d\d\.\d{3} #1 c>s 5 "hello"$/.test(log[0]), log[0]);
  proxy.kill("SIGINT");
  assertEquals(await proxy.exit(), 0, proxy.describe());
});

Deno.test("wire proxy forwards bytes unchanged both ways (1 MiB of every byte value)", async () => {
  await using echo = runPython(PY_ECHO);
  const target = await echo.readLine();
  await using proxy = new Wire(NET, [
    "proxy",
    "--quiet",
    "127.0.0.1:0",
    `127.0.0.1:${target}`,
  ]);
  const port = await proxy.port();
  const data = Uint8Array.from(
    { length: 1 << 20 },
    (_, i) => (i * 7 + (i >> 8)) & 255,
  );
  await using socket = await connect({ port });
  const sending = (async () => {
    await socket.send(data);
    await socket.closeWrite();
  })();
  const back = await socket.recvExactly(data.length, { timeout: 30_000 });
  await sending;
  assertEquals(await socket.recv(), null);
  assertEquals(back.length, data.length);
  assert(back.every((b, i) => b === data[i]), "bytes changed on the way");
  assertEquals(proxy.stdout, "");
});

Deno.test("wire proxy --reset-after 2 closes both sides after two frames", async () => {
  await using echo = runPython(PY_ECHO);
  const target = await echo.readLine();
  await using proxy = new Wire(NET, [
    "proxy",
    "--framing",
    "lines",
    "--reset-after",
    "2",
    "127.0.0.1:0",
    `127.0.0.1:${target}`,
  ]);
  const port = await proxy.port();
  await using socket = await connect({ port });
  // "one" there and back is two frames; "two" is never forwarded.
  await socket.send("one\n");
  assertEquals(new TextDecoder().decode(await socket.recvExactly(4)), "one\n");
  await socket.send("two\n");
  assertEquals(await socket.recv().catch(() => null), null);
  await proxy.waitFor(/s>c 3 "one"/, "stdout");
  assert(!proxy.stdout.includes("two"), proxy.stdout);
});

Deno.test("wire proxy: a target that refuses is reported, the proxy stays up", async () => {
  const free = (() => {
    using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return l.addr.port;
  })();
  await using proxy = new Wire(NET, [
    "proxy",
    "127.0.0.1:0",
    `127.0.0.1:${free}`,
  ]);
  const port = await proxy.port();
  await using socket = await connect({ port });
  assertEquals(await socket.recv().catch(() => null), null);
  await proxy.waitFor(/#1: .*ECONNREFUSED/);
  proxy.kill("SIGINT");
  assertEquals(await proxy.exit(), 0);
  assertStringIncludes(proxy.stderr, "interrupted: closing");
});
