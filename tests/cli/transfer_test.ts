// send and receive: wire to wire, wire to the example's receiver, the
// tutorial's format; a progress bar under a pseudo-terminal (script -q -c)
// and none when stdout is a pipe.

import {
  assert,
  assertEquals,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { Wire, wire } from "../_helpers/wire.ts";
import { ExampleProcess, ROOT } from "../_helpers/examples.ts";
import { progressLine } from "../../cli/progress.ts";

Deno.test("progressLine: bytes, rate and time left", () => {
  assertEquals(
    progressLine("sending a", 1024 * 1024, 4 * 1024 * 1024, 2),
    "sending a [#####               ] 25% 1.0 MiB/4.0 MiB 512.0 KiB/s 6s left",
  );
  assertEquals(
    progressLine("x", 10, 10, 0),
    "x [####################] 100% 10 B/10 B 0 B/s done",
  );
});

async function tempTree() {
  const dir = await Deno.makeTempDir({ prefix: "wire-transfer-" });
  const file = `${dir}/photo.bin`;
  await Deno.writeFile(
    file,
    Uint8Array.from({ length: 300_000 }, (_, i) => i % 251),
  );
  return { dir, file, inbox: `${dir}/inbox` };
}

Deno.test("wire send to wire receive: the file arrives checked; no bar when piped", async () => {
  const { dir, file, inbox } = await tempTree();
  try {
    await using receiver = new Wire(
      [
        `--allow-net=127.0.0.1`,
        `--allow-read=${inbox}`,
        `--allow-write=${inbox}`,
      ],
      ["receive", "--once", "--dir", inbox, "127.0.0.1:0"],
    );
    const port = await receiver.port();
    const sent = await wire([
      `--allow-net=127.0.0.1:${port}`,
      `--allow-read=${file}`,
    ], ["send", file, `127.0.0.1:${port}`]);
    assertEquals(sent.code, 0, sent.stderr);
    assertStringIncludes(sent.stderr, "the receiver checked it");
    assertEquals(sent.stdout, ""); // not a terminal: no progress bar
    assertEquals(await receiver.exit(), 0, receiver.describe());
    assertEquals(
      await Deno.readFile(`${inbox}/photo.bin`),
      await Deno.readFile(file),
    );
    // A second send of the same name is refused: exit 1 with the reason.
    await using again = new Wire(
      [
        `--allow-net=127.0.0.1`,
        `--allow-read=${inbox}`,
        `--allow-write=${inbox}`,
      ],
      ["receive", "--once", "--dir", inbox, "127.0.0.1:0"],
    );
    const port2 = await again.port();
    const refused = await wire([
      `--allow-net=127.0.0.1:${port2}`,
      `--allow-read=${file}`,
    ], ["send", file, `127.0.0.1:${port2}`]);
    assertEquals(refused.code, 1);
    assertStringIncludes(refused.stderr, "already exists");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wire send speaks the example's protocol; --protocol tutorial too", async () => {
  const { dir, file, inbox } = await tempTree();
  try {
    await using example = new ExampleProcess(
      [
        "--allow-net=127.0.0.1",
        `--allow-read=${inbox}`,
        `--allow-write=${inbox}`,
      ],
      "examples/file_transfer.ts",
      ["receive", "--dir", inbox, "--port", "0"],
    );
    const port = Number((await example.waitFor(/on 127\.0\.0\.1:(\d+)/))[1]);
    const sent = await wire([
      `--allow-net=127.0.0.1:${port}`,
      `--allow-read=${file}`,
    ], ["send", file, `127.0.0.1:${port}`]);
    assertEquals(sent.code, 0, sent.stderr);
    await example.waitFor(/received photo\.bin/);
    await Deno.rename(`${inbox}/photo.bin`, `${dir}/first.bin`);
    const tutorial = await wire(
      [`--allow-net=127.0.0.1:${port}`, `--allow-read=${file}`],
      ["send", "--protocol", "tutorial", file, `127.0.0.1:${port}`],
    );
    assertEquals(tutorial.code, 0, tutorial.stderr);
    await example.waitFor(/received photo\.bin .*tutorial's format/);
    assertEquals(
      await Deno.readFile(`${inbox}/photo.bin`),
      await Deno.readFile(file),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wire send under a terminal draws the bar: bytes, rate, time left", async () => {
  const { dir, file, inbox } = await tempTree();
  try {
    await using receiver = new Wire(
      [
        `--allow-net=127.0.0.1`,
        `--allow-read=${inbox}`,
        `--allow-write=${inbox}`,
      ],
      ["receive", "--once", "--dir", inbox, "127.0.0.1:0"],
    );
    const port = await receiver.port();
    const command = [
      Deno.execPath(),
      "run",
      `--allow-net=127.0.0.1:${port}`,
      `--allow-read=${file}`,
      "cli.ts",
      "send",
      file,
      `127.0.0.1:${port}`,
    ].join(" ");
    // script gives the child a pseudo-terminal; what it drew comes out here.
    const output = await new Deno.Command("script", {
      args: ["-q", "-e", "-c", command, "/dev/null"],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const drawn = new TextDecoder().decode(output.stdout);
    assertEquals(
      output.code,
      0,
      drawn + new TextDecoder().decode(output.stderr),
    );
    assertStringIncludes(drawn, "sending photo.bin [");
    assert(
      /100% 293\.0 KiB\/293\.0 KiB [\d.]+ [KMG]?i?B\/s done/.test(drawn),
      drawn,
    );
    assertEquals(await receiver.exit(), 0, receiver.describe());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
