// The file_transfer example's receiver, in this process, with each kind of
// head it takes or refuses since it speaks the tutorials' upload too
// (issue #14): either byte order of the header length, the module's keys
// with or without sha256, the tutorial's keys (no answer), and every refusal.
// The tutorial's own Python programs run against it in interop/seeds_test.ts.

import { receiveFiles, sendFile } from "../../examples/file_transfer.ts";
import { connect, lengthPrefixed, message, SocketError } from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { delay, within } from "../_helpers/async.ts";
import { utf8 } from "../_helpers/bytes.ts";
import { runPython } from "../_helpers/python.ts";

async function listDir(dir: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** Waits (5 s at most) until a logged line matches `pattern`. */
async function logged(lines: string[], pattern: RegExp): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const line = lines.find((line) => pattern.test(line));
    if (line !== undefined) return line;
    await delay(10);
  }
  throw new Error(`no log line matched ${pattern}:\n${lines.join("\n")}`);
}

/** Runs `body` against a receiver in a fresh directory, then shuts it down. */
async function withReceiver(
  body: (port: number, dir: string, lines: string[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "file_transfer_formats_" });
  try {
    const lines: string[] = [];
    const server = await receiveFiles({
      dir,
      progress: false,
      log: (line) => lines.push(line),
    });
    try {
      await body(server.addr.port, dir, lines);
    } finally {
      await within(server.shutdown(), 10_000, "the receiver's shutdown");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sends `head` (JSON bytes after a 4-byte length), then reads the answer. */
async function sendHead(
  port: number,
  json: Uint8Array,
  littleEndian = false,
): Promise<Record<string, unknown> | null> {
  await using socket = await connect({ port });
  socket.timeout = 5000;
  await socket.sendFrame(json, lengthPrefixed({ littleEndian }));
  return (await socket.recvFrame(message()))?.header ?? null;
}

Deno.test("file_transfer receive: the module's head with a little-endian length and no sha256 is stored after the size check", async () => {
  await withReceiver(async (port, dir, lines) => {
    const framing = message({ littleEndian: true });
    {
      await using socket = await connect({ port });
      socket.timeout = 5000;
      await socket.sendFrame({ name: "a.txt", size: 5 }, framing.head);
      assertEquals(
        (await socket.recvFrame(message()))?.header.status,
        "ready",
      );
      await socket.send("hello");
      await socket.closeWrite();
      const done = await socket.recvFrame(message());
      assertEquals(done?.header.status, "ok");
      assertMatch(String(done?.header.sha256), /^[0-9a-f]{64}$/);
    }
    assertEquals(await Deno.readTextFile(`${dir}/a.txt`), "hello");
    assertStringIncludes(
      await logged(lines, /^received a\.txt/),
      "its size checked, the sender gave no sha256",
    );
  });
});

Deno.test("file_transfer receive: refusals of the module's head are answered and leave nothing", async () => {
  await withReceiver(async (port, dir) => {
    const cases: [string | Uint8Array, string][] = [
      [
        '{"name":"a","size":-1}',
        `the header's size is not a whole number of bytes: -1`,
      ],
      [
        '{"name":"a","size":"3"}',
        `the header's size is not a whole number of bytes: "3"`,
      ],
      [
        '{"name":"a"}',
        "the header's size is not a whole number of bytes: undefined",
      ],
      [
        '{"name":"a","size":1,"sha256":"abc"}',
        "the header's sha256 is not 64 hex digits",
      ],
      ['{"name":"../a","size":1}', 'the name "../a" contains "/"'],
      ['{"name":"..","size":1}', 'the name is ".."'],
      ["[1,2]", "the header is not a JSON object"],
      ["null", "the header is not a JSON object"],
      ["{not json", "the header is not UTF-8 JSON"],
      [new Uint8Array([0x7b, 0xff, 0x7d]), "the header is not UTF-8 JSON"],
    ];
    for (const [head, error] of cases) {
      const answer = await sendHead(
        port,
        typeof head === "string" ? utf8(head) : head,
      );
      assertEquals(answer, { status: "error", error, size: 0 }, String(head));
    }
    assertEquals(await listDir(dir), []);
  });
});

Deno.test("file_transfer receive: the tutorial's head is refused without an answer (the connection closes)", async () => {
  await withReceiver(async (port, dir, lines) => {
    for (
      const head of [
        '{"filename":"a.bin","filesize":-5}',
        '{"filename":"a/b","filesize":1}',
      ]
    ) {
      await using socket = await connect({ port });
      socket.timeout = 5000;
      await socket.sendFrame(
        utf8(head),
        lengthPrefixed({ littleEndian: true }),
      );
      // Nothing comes back: the end of the stream (or a reset).
      try {
        assertEquals(await socket.recv(), null);
      } catch (error) {
        assert(error instanceof SocketError, String(error));
        assertEquals(error.code, "ECONNRESET");
      }
    }
    assertStringIncludes(
      await logged(lines, /filesize/),
      "the header's filesize is not a whole number of bytes: -5",
    );
    await logged(lines, /the name "a\/b" contains "\/"/);
    assertEquals(await listDir(dir), []);
  });
});

Deno.test("file_transfer receive: a tutorial body longer than its filesize is discarded", async () => {
  await withReceiver(async (port, dir, lines) => {
    {
      await using socket = await connect({ port });
      socket.timeout = 5000;
      await socket.sendFrame(
        utf8('{"filename": "long.bin", "filesize": 3}'),
        lengthPrefixed({ littleEndian: true }),
      );
      await socket.send("abcdef");
      await socket.closeWrite();
      assertEquals(await socket.recv(), null); // no answer, then the end
    }
    assertStringIncludes(
      await logged(lines, /^discarded long\.bin/),
      "more than the 3 bytes its header announced",
    );
    assertEquals(await listDir(dir), []);
  });
});

Deno.test("file_transfer receive: a header length over the limit in both byte orders fails the transfer", async () => {
  await withReceiver(async (port, dir, lines) => {
    {
      await using socket = await connect({ port });
      socket.timeout = 5000;
      // 0x00010001 either way round: 65537, one over the 65535-byte limit.
      await socket.send(new Uint8Array([0, 1, 0, 1]));
      await socket.flush();
      try {
        assertEquals(await socket.recv(), null);
      } catch (error) {
        assert(error instanceof SocketError, String(error));
      }
    }
    assertStringIncludes(
      await logged(lines, /^transfer failed/),
      "FrameError: Cannot decode frame: header announces: 65537 bytes, limit is 65535",
    );
    assertEquals(await listDir(dir), []);
  });
});

Deno.test("file_transfer sendFile({ format: 'tutorial' }) to a receiver that answers is an error", async () => {
  // A peer that reads the head and answers like the module's receiver.
  const dir = await Deno.makeTempDir({ prefix: "file_transfer_formats_" });
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "abc");
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const peer = (async () => {
      using conn = await listener.accept();
      // Everything the sender sends (it half-closes after the body), then
      // an answer it does not expect.
      const buffer = new Uint8Array(1024);
      for (let reads = 0; reads < 100; reads++) {
        if (await conn.read(buffer) === null) break;
      }
      await conn.write(
        message().encode({
          header: { status: "ready" },
          body: new Uint8Array(0),
        }),
      );
    })();
    const error = await sendFile({
      port: listener.addr.port,
      path: `${dir}/a.txt`,
      format: "tutorial",
      progress: false,
    }).then(() => undefined, (error) => error);
    await peer;
    assert(error instanceof Error, String(error));
    assertStringIncludes(
      error.message,
      "does not speak the tutorial's protocol",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file_transfer sendFile() in the default format to the tutorial's receiver says it likely expects --format tutorial", async () => {
  // examples/tutorials/upload_server.py, on a free port, saying when it
  // listens: it reads the module's big-endian header length as a
  // little-endian int, chokes, and hangs up without a word.
  const dir = await Deno.makeTempDir({ prefix: "file_transfer_formats_" });
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "abc");
    using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const program = await Deno.readTextFile(
      new URL("../../examples/tutorials/upload_server.py", import.meta.url),
    );
    const listening = program.replace(
      "sk.listen()\n",
      "sk.listen()\nprint('listening', flush=True)\n",
    );
    assert(listening !== program, "upload_server.py has no sk.listen() line");
    await using server = runPython(
      `import os\nos.environ['TUTORIAL_PORT'] = '${port}'\n${listening}`,
      { cwd: dir },
    );
    assertEquals(
      await within(server.readLine(), 10_000, "listening"),
      "listening",
    );
    const error = await within(
      sendFile({ port, path: `${dir}/a.txt`, progress: false }).then(
        () => undefined,
        (error) => error,
      ),
      10_000,
      "sendFile",
    );
    assert(error instanceof Error, String(error));
    assertEquals(
      error.message,
      "the receiver closed the connection without answering the upload's header: it likely expects the tutorials' format (send again with --format tutorial), or it is not a file_transfer.ts receiver",
    );
    // The tutorial's server failed on the head, as the message supposes.
    const { code } = await server.finish();
    assert(code !== 0, "the tutorial's server took the module's head");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
