// Fault tests over loopback (issue #7, items 2 and 4): the file_transfer
// example's receiver, run in this process, against a sender that sends more
// body than its header's `size`. (Hostile names, short bodies, wrong sha256
// and overwriting are covered in examples_test.ts, through the example's own
// process and permissions.)

import { connect, message } from "../mod.ts";
import { receiveFiles } from "../examples/file_transfer.ts";
import { createHash } from "node:crypto";
import { assert, assertEquals, within } from "./_tcp_helpers.ts";

const sha256 = (bytes: Uint8Array): string =>
  createHash("sha256").update(bytes).digest("hex");

async function listDir(dir: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("faults: file transfer: a body longer than the header's size (hashed whole) leaves no file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "faults_file_transfer_" });
  try {
    const lines: string[] = [];
    const server = await receiveFiles({
      dir,
      progress: false,
      log: (line) => lines.push(line),
    });
    try {
      const framing = message();
      const body = new TextEncoder().encode("abcdef");
      // The header claims 3 bytes; the sender sends 6, and the sha256 of all 6.
      {
        await using socket = await connect({ port: server.addr.port });
        socket.timeout = 10_000;
        await socket.sendFrame(
          { name: "long.bin", size: 3, sha256: sha256(body) },
          framing.head,
        );
        assertEquals((await socket.recvFrame(framing))?.header.status, "ready");
        await socket.send(body);
        const answer = await socket.recvFrame(framing);
        assertEquals(answer?.header.status, "error");
        assert(
          String(answer?.header.error).includes("damaged"),
          lines.join("\n"),
        );
      }
      // Nothing placed, no temporary file left.
      assertEquals(await listDir(dir), []);
    } finally {
      await within(server.shutdown(), 10_000, "the receiver's shutdown");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("faults: file transfer: bytes after a body whose sha256 matches leave no file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "faults_file_transfer_" });
  try {
    const lines: string[] = [];
    const server = await receiveFiles({
      dir,
      progress: false,
      log: (line) => lines.push(line),
    });
    try {
      const framing = message();
      const body = new TextEncoder().encode("abc");
      // The header and its sha256 describe "abc"; "XYZ" follows it anyway.
      {
        await using socket = await connect({ port: server.addr.port });
        socket.timeout = 10_000;
        await socket.sendFrame(
          { name: "trailing.bin", size: 3, sha256: sha256(body) },
          framing.head,
        );
        assertEquals((await socket.recvFrame(framing))?.header.status, "ready");
        await socket.send(new TextEncoder().encode("abcXYZ"));
        await socket.closeWrite();
        const answer = await socket.recvFrame(framing);
        assertEquals(answer?.header.status, "error", lines.join("\n"));
        assert(
          String(answer?.header.error).includes("more than the 3 bytes"),
          String(answer?.header.error),
        );
      }
      assertEquals(await listDir(dir), []);
    } finally {
      await within(server.shutdown(), 10_000, "the receiver's shutdown");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
