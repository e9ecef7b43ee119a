// record and replay: a conversation through record becomes JSON lines;
// replayed against the same server every answer matches (exit 0), against
// another the differences are reported frame by frame (exit 1).

import { runPython } from "../_helpers/python.ts";
import { assertEquals, assertStringIncludes } from "../_helpers/assert.ts";
import { connect, delimited } from "../../mod.ts";
import { PY_ECHO } from "../_helpers/cli_peers.ts";
import { NET, Wire, wire } from "../_helpers/wire.ts";

Deno.test("wire record writes JSON lines; replay matches the same server, diffs another", async () => {
  await using echo = runPython(PY_ECHO);
  const target = await echo.readLine();
  await using recorder = new Wire(NET, [
    "record",
    "--once",
    "--framing",
    "lines",
    "127.0.0.1:0",
    `127.0.0.1:${target}`,
  ]);
  const port = await recorder.port();
  {
    await using socket = await connect({ port, framing: delimited() });
    for (const word of ["ping", "caf\u00e9"]) {
      await socket.sendFrame(new TextEncoder().encode(word));
      await socket.recvFrame({ timeout: 10_000 });
    }
    await socket.closeWrite();
    assertEquals(await socket.recvFrame(), null);
  }
  assertEquals(await recorder.exit(), 0, recorder.describe());
  const lines = recorder.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines[0], { record: 1, framing: "lines" });
  assertEquals(lines.slice(1).map((l) => [l.conn, l.dir, l.length, l.text]), [
    [1, "c>s", 4, "ping"],
    [1, "s>c", 4, "ping"],
    [1, "c>s", 5, "caf\u00e9"],
    [1, "s>c", 5, "caf\u00e9"],
  ]);
  const file = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(file, recorder.stdout);
    const same = await wire([...NET, `--allow-read=${file}`], [
      "replay",
      file,
      `127.0.0.1:${target}`,
    ]);
    assertEquals(same.code, 0, same.stderr);
    assertEquals(same.stdout, "all 2 answers match\n");

    await using upper = runPython(PY_ECHO, "upper");
    const other = await upper.readLine();
    const diff = await wire([...NET, `--allow-read=${file}`], [
      "replay",
      file,
      `127.0.0.1:${other}`,
    ]);
    assertEquals(diff.code, 1, diff.stderr);
    assertStringIncludes(
      diff.stdout,
      '#1 frame 2 (s>c): expected 4 bytes "ping", got 4 bytes "PING"',
    );
    assertStringIncludes(diff.stdout, "2 of 2 answers differ");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("wire replay reports an answer that never comes", async () => {
  const recording = '{"record":1,"framing":"raw"}\n' +
    '{"conn":1,"dir":"c>s","length":2,"text":"hi"}\n' +
    '{"conn":1,"dir":"s>c","length":3,"base64":"AAEC"}\n';
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept().then(async (conn) => {
    await conn.read(new Uint8Array(2));
    conn.close(); // no answer
  });
  const run = await wire(NET, [
    "replay",
    "--timeout",
    "2000",
    "-",
    `127.0.0.1:${listener.addr.port}`,
  ], recording);
  await accepted;
  assertEquals(run.code, 1, run.stderr);
  assertStringIncludes(
    run.stdout,
    'expected 3 bytes "\\u0000\\u0001\\u0002", got end of stream',
  );
});
