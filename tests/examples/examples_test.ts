// Runs every example as a child process with exactly the permission flags
// its header's `// Run:` line gives (port 9000 and the sample paths replaced
// by the test's own), drives it with a real client, checks what it prints,
// and stops it (SIGINT for servers, which must then exit 0).

import { createHash } from "node:crypto";
import {
  connect,
  delimited,
  message,
  serve,
  type TcpSocket,
} from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertFalse,
  assertMatch,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import {
  ExampleProcess,
  freeTcpPort,
  freeUdpPort,
  peakRss,
  ROOT,
  type RunLine,
  runLines,
  substitute,
} from "../_helpers/examples.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (bytes: Uint8Array | null) =>
  bytes === null ? null : decoder.decode(bytes);

const EXAMPLES = [
  "echo",
  "echo_workers",
  "echo_client",
  "upper_chat",
  "udp_echo",
  "sticky_packets",
  "file_transfer",
  "chat_room",
  "demo",
  "postgres", // run against a real server in tests/postgres_test.ts
  "phone", // run against the tutorials' programs in tests/seeds_test.ts
];

/** The Run line of `name` whose arguments start with `mode` (or the only one). */
async function runLine(name: string, mode?: string): Promise<RunLine> {
  const lines = await runLines(`examples/${name}.ts`);
  const line = mode === undefined
    ? lines[0]
    : lines.find((line) => line.args[0] === mode);
  if (!line) {
    throw new Error(`examples/${name}.ts has no Run line for ${mode ?? "it"}`);
  }
  return line;
}

/**
 * Starts the example of `line` with its flags and arguments, the port and
 * paths substituted, and `--port` appended when `port` is given.
 */
function start(
  line: RunLine,
  options: {
    port?: number;
    paths?: Record<string, string>;
    extra?: string[];
    stdin?: "piped" | "null";
  } = {},
): ExampleProcess {
  const { port, paths, extra = [] } = options;
  const args = substitute(line.args, port, paths);
  if (port !== undefined) args.push("--port", String(port));
  return new ExampleProcess(
    substitute(line.flags, port, paths),
    line.script,
    [...args, ...extra],
    { stdin: options.stdin },
  );
}

/** Stops a server with SIGINT and asserts a clean exit. */
async function interrupt(server: ExampleProcess): Promise<void> {
  server.kill("SIGINT");
  const status = await server.exit();
  assertEquals(status.code, 0, server.describe());
  assert(server.lines.includes("stopped"), server.describe());
}

Deno.test("every example has Run lines with narrow flags, matching its task", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const tasks: Record<string, string> = config.tasks;
  const files = [];
  for await (const entry of Deno.readDir(`${ROOT}examples`)) {
    if (entry.name.endsWith(".ts") && !entry.name.startsWith("_")) {
      files.push(entry.name.slice(0, -3));
    }
  }
  assertEquals(files.sort(), [...EXAMPLES].sort(), "one test per example");
  for (const name of EXAMPLES) {
    const lines = await runLines(`examples/${name}.ts`);
    assert(lines.length > 0, `examples/${name}.ts has no "// Run:" line`);
    for (const { command, flags } of lines) {
      for (const flag of flags) {
        assert(
          !["-A", "--allow-all"].includes(flag) &&
            !["--allow-net", "--allow-read", "--allow-write"].includes(flag),
          `${name}: "${flag}" is not narrow: ${command}`,
        );
      }
    }
    const task = name === "demo" ? tasks.demo : tasks[`example:${name}`];
    assert(task, `deno.json has no task for ${name}`);
    assert(
      lines.some(({ command }) => task === command) ||
        lines.some(({ flags, script }) =>
          task.startsWith(`deno run ${flags.join(" ")} ${script}`)
        ),
      `the task for ${name} (${task}) has other flags than its Run lines`,
    );
  }
  // The demo's task and header are the same command, exactly.
  assertEquals(tasks.demo, (await runLine("demo")).command);
});

Deno.test("echo.ts serves many clients at once and stops on SIGINT", async () => {
  const port = freeTcpPort();
  await using server = start(await runLine("echo"), { port });
  await server.waitFor(new RegExp(`listening on 127\\.0\\.0\\.1:${port}\\b`));

  // Three clients at once, each with several frames in flight.
  const clients = await Promise.all(
    [0, 1, 2].map(() => connect({ port, timeout: 5000 })),
  );
  try {
    for (const [i, client] of clients.entries()) {
      client.timeout = 5000;
      await client.sendFrames(
        ["a", "", "b".repeat(100_000)].map((s) => encoder.encode(s + i)),
      );
    }
    for (const [i, client] of clients.entries()) {
      assertEquals(text(await client.recvFrame()), `a${i}`);
      assertEquals(text(await client.recvFrame()), `${i}`);
      assertEquals(text(await client.recvFrame()), "b".repeat(100_000) + i);
    }
    // Raw bytes come back unchanged too (it is a byte echo).
    await clients[0].send("raw\n");
    assertEquals(text(await clients[0].recvExactly(4)), "raw\n");
  } finally {
    for (const client of clients) await client[Symbol.asyncDispose]();
  }
  await server.waitFor(/left after/);
  await interrupt(server);
});

Deno.test("echo_workers.ts serves one port from two workers and stops on SIGINT", async () => {
  const port = freeTcpPort();
  await using server = start(await runLine("echo_workers"), {
    port,
    extra: ["--workers", "2"],
  });
  await server.waitFor(new RegExp(`on 127\\.0\\.0\\.1:${port}, 2 workers`));
  for (let i = 0; i < 12; i++) {
    await using client = await connect({ port, timeout: 5000 });
    client.timeout = 5000;
    await client.sendFrame(encoder.encode(`frame ${i}`));
    assertEquals(text(await client.recvFrame()), `frame ${i}`);
  }
  server.kill("SIGINT");
  assertEquals((await server.exit()).code, 0, server.describe());
  const served = server.lines.find((line) =>
    line.startsWith("connections served")
  );
  assert(served !== undefined, server.describe());
  const counts = served.split(": ")[1].split(", ").map(Number);
  assertEquals(counts.length, 2);
  assertEquals(counts[0] + counts[1], 12);
});

Deno.test("echo_client.ts sends arguments and stdin lines as frames", async () => {
  const port = freeTcpPort();
  const received: string[] = [];
  const server = serve({ port }, async (socket) => {
    for await (const frame of socket.frames()) {
      received.push(decoder.decode(frame));
      await socket.sendFrame(frame);
    }
  });
  try {
    const line = await runLine("echo_client");
    assertEquals(line.args, ["hello", "world"]);
    {
      await using client = start(line, { port, extra: ["", "007"] });
      assertEquals((await client.exit()).code, 0, client.describe());
      assertEquals(client.lines, [
        "echo: hello",
        "echo: world",
        "echo: ",
        "echo: 007",
      ]);
    }
    {
      await using client = start({ ...line, args: [] }, {
        port,
        stdin: "piped",
      });
      await client.write("one\r\ntwo\n\nthree");
      await client.closeStdin();
      assertEquals((await client.exit()).code, 0, client.describe());
      assertEquals(client.lines, [
        "echo: one",
        "echo: two",
        "echo: ",
        "echo: three",
      ]);
    }
    assertEquals(received, [
      "hello",
      "world",
      "",
      "007",
      "one",
      "two",
      "",
      "three",
    ]);
  } finally {
    await server.shutdown();
  }
  // Nothing listening: a clear error and exit code 1.
  await using refused = start(await runLine("echo_client"), { port });
  assertEquals((await refused.exit()).code, 1);
  assertStringIncludes(refused.stderr, "is the echo server running?");
});

Deno.test("upper_chat.ts skips empty input and outlives killed clients", async () => {
  const port = freeTcpPort();
  await using server = start(await runLine("upper_chat", "server"), { port });
  await server.waitFor(/upper-case server listening on/);
  const clientLine = await runLine("upper_chat", "client");

  {
    await using client = start(clientLine, { port, stdin: "piped" });
    await client.write("hello\n\n   \nworld\n");
    await client.closeStdin();
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines, ["HELLO", "WORLD"]);
    assertEquals(client.stderr.match(/empty line skipped/g)?.length, 2);
  }
  // A client killed mid-session (SIGKILL: no goodbye at all).
  {
    await using client = start(clientLine, { port, stdin: "piped" });
    await client.write("first\n");
    await client.waitFor(/^FIRST$/);
    client.kill("SIGKILL");
    await client.exit();
  }
  // A client that resets the connection with a request half sent.
  {
    await using socket = await connect({ port, framing: delimited() });
    await socket.send("half a li");
    await socket.flush();
    socket.destroy();
  }
  await server.waitFor(/disconnected|cut off/);
  // The server still answers.
  {
    await using client = start(clientLine, { port, stdin: "piped" });
    await client.write("still here\n");
    await client.closeStdin();
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines, ["STILL HERE"]);
  }
  await server.waitFor(/quit in the middle of a line/);
  await interrupt(server);
  assertFalse(
    server.lines.some((line) => line.includes("a client failed")),
    server.describe(),
  );
});

Deno.test("udp_echo.ts echoes empty datagrams and shows truncation", async () => {
  const port = freeUdpPort();
  await using server = start(await runLine("udp_echo", "server"), { port });
  await server.waitFor(/udp echo server listening on 127\.0\.0\.1:\d+/);
  const clientLine = await runLine("udp_echo", "client");
  assertEquals(clientLine.flags, ["--allow-net=127.0.0.1:0,127.0.0.1:9000"]);
  {
    await using client = start(clientLine, { port });
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines.length, 3, client.describe());
    assertEquals(client.lines[0], 'sent 5 bytes "hello", got 5 bytes "hello"');
    assertMatch(
      client.lines[1],
      /^sent 0 bytes "", got 0 bytes "" \(an empty datagram is still a datagram\)$/,
    );
    assertMatch(
      client.lines[2],
      /^sent 56 bytes .*, got 16 bytes "this datagram is" \(truncated/,
    );
  }
  {
    await using client = start(clientLine, {
      port,
      extra: ["--max-bytes", "3", "abc", "abcd"],
    });
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines[0], 'sent 3 bytes "abc", got 3 bytes "abc"');
    assertMatch(client.lines[1], /got 3 bytes "abc" \(truncated/);
  }
  await server.waitFor(/sent 0 bytes: ""/);
  server.kill("SIGINT");
  assertEquals((await server.exit()).code, 0, server.describe());
  assert(server.lines.includes("stopped"), server.describe());
});

Deno.test("sticky_packets.ts shows merged and split reads, then exact frames", async () => {
  const port = freeTcpPort();
  await using run = start(await runLine("sticky_packets"), { port });
  assertEquals((await run.exit()).code, 0, run.describe());
  const out = run.lines.map((line) => line.trim());
  const reads = out.filter((line) => /^recv\(\) #/.test(line));
  assertEquals(reads, ['recv() #1 returned 21 bytes: "applebananacherrydate"']);
  const small = out.filter((line) => /^recv\(8\) #/.test(line));
  assertEquals(small, [
    'recv(8) #1 returned 8 bytes: "appleban"',
    'recv(8) #2 returned 8 bytes: "anacherr"',
    'recv(8) #3 returned 5 bytes: "ydate"',
  ]);
  const frames = out.filter((line) => /^recvFrame\(\) #/.test(line));
  assertEquals(frames, [
    'recvFrame() #1 returned "apple"',
    'recvFrame() #2 returned "banana"',
    'recvFrame() #3 returned "cherry"',
    'recvFrame() #4 returned "date"',
  ]);
});

/** SHA-256 of a file, in hex. */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

async function listDir(dir: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("file_transfer.ts moves 20 MiB through bounded memory, checked", async () => {
  const port = freeTcpPort();
  const root = await Deno.makeTempDir({ prefix: "file_transfer_test_" });
  try {
    const inbox = `${root}/inbox`;
    const source = `${root}/photo.jpg`;
    {
      using file = await Deno.open(source, { write: true, createNew: true });
      const chunk = new Uint8Array(1024 * 1024);
      for (let i = 0; i < 20; i++) {
        for (let at = 0; at < chunk.length; at += 65536) {
          crypto.getRandomValues(chunk.subarray(at, at + 65536));
        }
        for (let n = 0; n < chunk.length;) {
          n += await file.write(chunk.subarray(n));
        }
      }
    }
    const expected = await sha256Of(source);
    const paths = { "./inbox": inbox, "./photo.jpg": source };

    const receiveLine = await runLine("file_transfer", "receive");
    const sendLine = await runLine("file_transfer", "send");
    // The receiver may touch its directory only; the sender its file only.
    assertEquals(receiveLine.flags, [
      "--allow-net=127.0.0.1:9000",
      "--allow-read=./inbox",
      "--allow-write=./inbox",
    ]);
    assertEquals(sendLine.flags, [
      "--allow-net=127.0.0.1:9000",
      "--allow-read=./photo.jpg",
    ]);
    await using receiver = start(receiveLine, { port, paths });
    await receiver.waitFor(/receiving files into .* on 127\.0\.0\.1:\d+/);
    const idle = await peakRss(receiver.pid);

    {
      await using sender = start(sendLine, { port, paths });
      assertEquals((await sender.exit(60_000)).code, 0, sender.describe());
      assertEquals(
        sender.lines,
        [
          `sent photo.jpg: 20971520 bytes, sha256 ${expected}; the receiver checked it`,
        ],
      );
      // No progress bar: stderr is not a terminal.
      assertEquals(sender.stderr, "");
    }
    const got = await receiver.waitFor(
      /^received photo\.jpg \((\d+) bytes, sha256 ([0-9a-f]{64})\)/,
    );
    assertEquals(got[1], "20971520");
    assertEquals(got[2], expected);
    assertEquals(await sha256Of(`${inbox}/photo.jpg`), expected);
    assertEquals(await listDir(inbox), ["photo.jpg"]);
    const peak = await peakRss(receiver.pid);
    assert(
      peak < 100 * 1024 * 1024,
      `receiver peak RSS ${peak} bytes (idle: ${idle})`,
    );

    // Sending it again: refused, the file untouched.
    {
      await using sender = start(sendLine, { port, paths });
      assertEquals((await sender.exit()).code, 1, sender.describe());
      assertStringIncludes(sender.stderr, "already exists");
    }

    // Hostile names, sent by hand: refused before any body.
    const framing = message();
    for (const name of ["../up.txt", "a/b", "a\\b", "..", "nul\0.txt"]) {
      await using socket = await connect({ port });
      socket.timeout = 5000;
      await socket.sendFrame(
        { name, size: 1, sha256: "0".repeat(64) },
        framing.head,
      );
      const answer = await socket.recvFrame(framing);
      assertEquals(answer?.header.status, "error", name);
    }

    // A sender that vanishes mid-body, and one whose bytes do not match the
    // sha256: neither leaves a file (or a temporary file) behind.
    {
      await using socket = await connect({ port });
      socket.timeout = 5000;
      await socket.sendFrame(
        { name: "cut.bin", size: 1_000_000, sha256: "0".repeat(64) },
        framing.head,
      );
      assertEquals((await socket.recvFrame(framing))?.header.status, "ready");
      await socket.send(new Uint8Array(1000));
      await socket.flush();
    }
    await receiver.waitFor(/transfer of cut\.bin .* failed/);
    {
      await using socket = await connect({ port });
      socket.timeout = 5000;
      await socket.sendFrame(
        { name: "wrong.bin", size: 3, sha256: "0".repeat(64) },
        framing.head,
      );
      assertEquals((await socket.recvFrame(framing))?.header.status, "ready");
      await socket.send("abc");
      await socket.closeWrite(); // the protocol: the body ends with a FIN
      const answer = await socket.recvFrame(framing);
      assertEquals(answer?.header.status, "error");
      assertStringIncludes(String(answer?.header.error), "damaged");
    }
    assertEquals(await listDir(inbox), ["photo.jpg"]);
    assertEquals(await listDir(root), ["inbox", "photo.jpg"]);
    await interrupt(receiver);

    // With --overwrite, a new version replaces the old one.
    await Deno.writeTextFile(source, "version 2");
    await using again = start(receiveLine, {
      port,
      paths,
      extra: ["--overwrite"],
    });
    await again.waitFor(/receiving files into/);
    {
      await using sender = start(sendLine, { port, paths });
      assertEquals((await sender.exit()).code, 0, sender.describe());
    }
    assertEquals(await Deno.readTextFile(`${inbox}/photo.jpg`), "version 2");
    assertEquals(await listDir(inbox), ["photo.jpg"]);
    await interrupt(again);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("chat_room.ts relays lines to the others, with join and leave notices", async () => {
  const port = freeTcpPort();
  await using server = start(await runLine("chat_room", "server"), { port });
  await server.waitFor(/chat room listening on/);

  const join = async (name: string) => {
    const socket = await connect({ port, framing: delimited() });
    socket.timeout = 10_000;
    await socket.sendFrame(encoder.encode(name));
    return socket;
  };
  const next = async (socket: TcpSocket) => text(await socket.recvFrame());

  await using ada = await join("ada");
  assertEquals(await next(ada), "* welcome, ada; nobody else is here");
  await using bob = await join("bob");
  assertEquals(await next(bob), "* welcome, bob; here: ada");
  assertEquals(await next(ada), "* bob joined");

  await ada.sendFrame(encoder.encode("hi bob"));
  assertEquals(await next(bob), "ada: hi bob");

  // The client mode: joins as carol, says one line, leaves at end of input.
  const clientLine = await runLine("chat_room", "client");
  assertEquals(clientLine.args, ["client", "--name", "ada"]);
  {
    await using carol = start(
      { ...clientLine, args: ["client", "--name", "carol"] },
      { port, stdin: "piped" },
    );
    await carol.waitFor(/^\* welcome, carol; here: ada, bob$/);
    assertEquals(await next(ada), "* carol joined");
    assertEquals(await next(bob), "* carol joined");
    await bob.sendFrame(encoder.encode("hello carol"));
    await carol.waitFor(/^bob: hello carol$/);
    assertEquals(await next(ada), "bob: hello carol");
    await carol.write("bye all\n");
    await carol.closeStdin();
    assertEquals((await carol.exit()).code, 0, carol.describe());
    // Her own line is not sent back to her.
    assertFalse(carol.lines.includes("carol: bye all"), carol.describe());
  }
  for (const socket of [ada, bob]) {
    assertEquals(await next(socket), "carol: bye all");
    assertEquals(await next(socket), "* carol left");
  }
  bob.close();
  assertEquals(await next(ada), "* bob left");
  await interrupt(server);
  assertEquals(await next(ada), null); // the server closed the room
});

Deno.test("demo.ts runs the tour with its task's flags and exits 0", async () => {
  const line = await runLine("demo");
  await using demo = start(line);
  assertEquals((await demo.exit(60_000)).code, 0, demo.describe());
  const out = demo.lines.join("\n");
  assertStringIncludes(out, 'client: sent "hello", got back "hello"');
  assertStringIncludes(
    out,
    'recv() #1 returned 21 bytes: "applebananacherrydate"',
  );
  assertStringIncludes(out, "(an empty datagram is still a datagram)");
  assertStringIncludes(out, 'got 16 bytes "this datagram is" (truncated');
  assertStringIncludes(out, "the stored copy's sha256 matches");
  assertStringIncludes(out, "sending it again is refused");
  assertStringIncludes(out, "done: every step worked");
  assertEquals(demo.stderr, "");
  // Its temporary directory is gone (./.demo itself too, unless another
  // demo was running at the same time).
  const work = /working in (\S+) \(removed at the end\)/.exec(out);
  if (!work) throw new Error(`no "working in" line\n${demo.describe()}`);
  assert(work[1].startsWith("./.demo/"), work[1]);
  const left = await Deno.lstat(`${ROOT}${work[1]}`).then(() => 1, () => 0);
  assertEquals(left, 0, `the demo left ${work[1]} behind`);
});
