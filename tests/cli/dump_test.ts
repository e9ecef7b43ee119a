// dump: a capture decoded frame by frame, from a file or stdin; leftovers
// and malformed headers exit 1 after the frames before them.

import { assertEquals, assertStringIncludes } from "../_helpers/assert.ts";
import { utf8 } from "../_helpers/bytes.ts";
import { encodeFrame, message } from "../../mod.ts";
import { wire } from "../_helpers/wire.ts";

Deno.test("wire dump --framing length annotates each frame of a file", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeFile(
      file,
      new Uint8Array([
        ...encodeFrame(utf8("hi")),
        ...encodeFrame(utf8("there")),
      ]),
    );
    const run = await wire([`--allow-read=${file}`], [
      "dump",
      "--framing",
      "length",
      file,
    ]);
    assertEquals(run.code, 0, run.stderr);
    assertEquals(
      run.stdout,
      '#1 @0 6 bytes header 00 00 00 02 payload 2 "hi"\n' +
        '#2 @6 9 bytes header 00 00 00 05 payload 5 "there"\n',
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("wire dump reads stdin; message frames show their header; --format json", async () => {
  const bytes = message().encode({ header: { op: "put" }, body: utf8("data") });
  const run = await wire([], [
    "dump",
    "--framing",
    "message",
    "--format",
    "json",
  ], bytes);
  assertEquals(run.code, 0, run.stderr);
  const frame = JSON.parse(run.stdout);
  assertEquals(frame.header, { op: "put", size: 4 });
  assertEquals([frame.offset, frame.length, frame.text], [0, 4, "data"]);
});

Deno.test("wire dump: bytes left at the end exit 1 after the whole frames", async () => {
  const run = await wire([], ["dump", "--framing", "lines"], "one\ntwo");
  assertEquals(run.code, 1);
  assertEquals(run.stdout, '#1 @0 4 bytes payload 3 "one"\n');
  assertStringIncludes(
    run.stderr,
    "3 bytes at offset 4 are not a whole lines frame (INCOMPLETE_FRAME)",
  );
  const bad = await wire([], ["dump", "--framing", "netstring"], "x:y,");
  assertEquals(bad.code, 1);
  assertStringIncludes(bad.stderr, "(BAD_HEADER)");
});
