// Fault tests over loopback (issue #7, items 2 and 4): the file_transfer
// example's receiver, run in this process, against a sender that sends more
// body than its header's `size`. (Hostile names, short bodies, wrong sha256
// and overwriting are covered in examples/examples_test.ts, through the example's own
// process and permissions.)

import { createHash } from "node:crypto";
import { receiveFiles } from "../../examples/file_transfer.ts";
import { connect, message } from "../../mod.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { within } from "../_helpers/async.ts";

const sha256 = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("hex");

async function listDir(dir: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/**
 * Runs `body` against a file_transfer receiver in this process, then checks
 * that nothing was placed and no temporary file is left.
 */
async function againstReceiver(
  body: (port: number, lines: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "faults_file_transfer_" });
  try {
    const lines: string[] = [];
    const server = await receiveFiles({
      dir,
      progress: false,
      log: (line) => lines.push(line),
    });
    try {
      await body(server.addr.port, lines);
      assertEquals(await listDir(dir), []);
    } finally {
      await within(server.shutdown(), 10_000, "the receiver's shutdown");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sends a head for `size` bytes with `sha256`, then `bytes`; the receiver's answer. */
async function sendWith(
  port: number,
  head: { name: string; size: number; sha256: string },
  bytes: Uint8Array,
  halfClose: boolean,
): Promise<Record<string, unknown> | undefined> {
  const framing = message();
  await using socket = await connect({ port });
  socket.timeout = 10_000;
  await socket.sendFrame(head, framing.head);
  assertEquals((await socket.recvFrame(framing))?.header.status, "ready");
  await socket.send(bytes);
  if (halfClose) await socket.closeWrite();
  return (await socket.recvFrame(framing))?.header;
}

Deno.test("faults: file transfer: a body longer than the header's size (hashed whole) leaves no file", async () => {
  await againstReceiver(async (port, lines) => {
    const body = new TextEncoder().encode("abcdef");
    // The header claims 3 bytes; the sender sends 6, and the sha256 of all 6.
    const answer = await sendWith(
      port,
      { name: "long.bin", size: 3, sha256: sha256(body) },
      body,
      false,
    );
    assertEquals(answer?.status, "error");
    assert(String(answer?.error).includes("damaged"), lines.join("\n"));
  });
});

Deno.test("faults: file transfer: bytes after a body whose sha256 matches leave no file", async () => {
  await againstReceiver(async (port, lines) => {
    // The header and its sha256 describe "abc"; "XYZ" follows it anyway.
    const answer = await sendWith(
      port,
      {
        name: "trailing.bin",
        size: 3,
        sha256: sha256(new TextEncoder().encode("abc")),
      },
      new TextEncoder().encode("abcXYZ"),
      true,
    );
    assertEquals(answer?.status, "error", lines.join("\n"));
    assert(
      String(answer?.error).includes("more than the 3 bytes"),
      String(answer?.error),
    );
  });
});
