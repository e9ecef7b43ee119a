// The tutorials' own programs against our examples (issues #14, #23). Each
// Python program is a file in examples/tutorials/: one of the five tutorials
// in shared/seeds/, ported to Python 3 with the smallest changes (each
// file's header names them), its hard-coded port overridable through
// TUTORIAL_PORT, which the tests set to a free port. The upload pair and the
// packed-messages client are the protocols tutorial 003 describes, written
// the way those tutorials write their programs. Changes a test makes to a
// program (another format, a lying size) are made with edit(), which fails
// if the text it changes is gone.
//
// The examples run as child processes with exactly the permission flags of
// their headers' `// Run:` lines (port 9000 and the sample paths replaced by
// the test's own). A Python server is known to be listening from
// /proc/net/tcp (or udp): connecting to find out would use up the one
// connection the tutorials' one-shot servers accept.

import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { delay, within } from "../_helpers/async.ts";
import { python, runPython } from "../_helpers/python.ts";
import {
  ExampleProcess,
  freeTcpPort,
  freeUdpPort,
  runLines,
  substitute,
} from "../_helpers/examples.ts";
import {
  connect,
  FrameError,
  lengthPrefixed,
  listen,
  message,
  serve,
} from "../../mod.ts";

// --- the tutorials' programs ---------------------------------------------

const TUTORIALS = new URL("../../examples/tutorials/", import.meta.url);

/**
 * The program examples/tutorials/`name`, to run with `runPython(code,
 * port, second?)`: the files keep the tutorials' hard-coded ports (and
 * file, and format) and take overrides from the environment, so a prelude
 * sets TUTORIAL_PORT from sys.argv[1] (and `second` from sys.argv[2]). The
 * program after the prelude is the file, byte for byte.
 */
function tutorial(
  name: string,
  second?: "TUTORIAL_FILE" | "TUTORIAL_FORMAT",
): string {
  const code = Deno.readTextFileSync(new URL(name, TUTORIALS));
  return `import os as _os, sys as _sys
_os.environ['TUTORIAL_PORT'] = _sys.argv[1]
${second ? `_os.environ['${second}'] = _sys.argv[2]\n` : ""}${code}`;
}

/** `code` with `from` replaced by `to`; fails if `from` is not there. */
function edit(code: string, from: string, to: string): string {
  assertStringIncludes(code, from);
  return code.replace(from, to);
}

/** 001: the "low version" phone server: one call, one message. */
const PHONE_SERVER_ONCE = tutorial("phone_server_once.py");

/** 001: the one-shot phone client, with connect_ex. */
const PHONE_CLIENT_ONCE = tutorial("phone_client.py");

/** 001: the server with a connection loop and a communication loop. */
const PHONE_SERVER_LOOP = tutorial("phone_server.py");

/**
 * 001: the client's `while True` loop, fed from stdin. It has no way out:
 * at the end of its input, `input()` raises EOFError (exit status 1).
 */
const PHONE_CLIENT_LOOP = tutorial("phone_client_loop.py");

/** 003: the TCP server (one message, answered "hi"). */
const TCP_SERVER_003 = tutorial("tcp_server.py");

/** 003: the TCP client. */
const TCP_CLIENT_003 = tutorial("tcp_client.py");

/** 004: the TCP client: sends and leaves without reading a reply. */
const TCP_CLIENT_004 = tutorial("tcp_client_004.py");

/** 001: the UDP server: recvfrom(1024), reply upper-cased, forever. */
const UDP_SERVER_001 = tutorial("udp_server.py");

/** 003: the UDP server: one datagram, answered "hi". */
const UDP_SERVER_003 = tutorial("udp_server_003.py");

/** 003: the UDP client: sendto, then recv(1024). */
const UDP_CLIENT_003 = tutorial("udp_client.py");

/** 004: the UDP client: one sendto, nothing received. */
const UDP_CLIENT_004 = tutorial("udp_client_004.py");

/**
 * 004's client, then the receive of 004's server: `recvfrom(3)`, a buffer
 * smaller than the datagram (the tutorial's point: it is cut short).
 */
const UDP_CLIENT_004_RECVFROM_3 = UDP_CLIENT_004 +
  `data, (peer_host, peer_port) = sock.recvfrom(3)
print(data)
`;

/** 003's UDP client sending 000's empty datagram: `sendto(b'')` still sends one. */
const UDP_CLIENT_EMPTY = edit(UDP_CLIENT_003, "sendto(b'hello'", "sendto(b''");

/**
 * 003's "custom protocol 2", the upload: the header dict's byte length
 * (struct.pack('i'): native order, little-endian here), the dict (file name
 * and size), then the content. sys.argv[2] is the file.
 */
const UPLOAD_CLIENT = tutorial("upload_client.py", "TUTORIAL_FILE");

/** The upload's receiving side: writes the file into its working directory. */
const UPLOAD_SERVER = tutorial("upload_server.py");

/**
 * 003's "custom protocol 1", the sticky-packet fix: each message after a
 * 4-byte struct.pack('i') length, sent as two send() calls in a tight loop.
 * The messages are "message <i> " repeated i % 5 times (so every fifth is
 * empty); sys.argv[2] is the format ('i', or '!i').
 */
const PACKED_MESSAGES_CLIENT = tutorial(
  "packed_messages_client.py",
  "TUTORIAL_FORMAT",
);

const EXPECTED_MESSAGES = Array.from(
  { length: 1000 },
  (_, i) => `message ${i} `.repeat(i % 5),
);

// --- helpers ------------------------------------------------------------

const decoder = new TextDecoder();

/**
 * Starts the example `name` with the flags and arguments of its header's Run
 * line whose arguments start with `args` (port 9000 and `paths` replaced),
 * and `--port` appended.
 */
async function example(
  name: string,
  args: string,
  options: {
    port: number;
    paths?: Record<string, string>;
    extra?: string[];
    stdin?: "piped" | "null";
  },
): Promise<ExampleProcess> {
  const script = `examples/${name}.ts`;
  const line = (await runLines(script)).find((line) =>
    line.args.join(" ") === args
  );
  if (!line) throw new Error(`${script} has no Run line ending "${args}"`);
  const { port, paths, extra = [] } = options;
  return new ExampleProcess(
    substitute(line.flags, port, paths),
    script,
    [...substitute(line.args, port, paths), "--port", `${port}`, ...extra],
    { stdin: options.stdin },
  );
}

/** Stops a server example with SIGINT and checks it stopped cleanly. */
async function interrupt(server: ExampleProcess): Promise<void> {
  server.kill("SIGINT");
  const status = await server.exit();
  assertEquals(status.code, 0, server.describe());
  assert(server.lines.includes("stopped"), server.describe());
}

/**
 * Waits (10 s at most) until a socket is bound on 127.0.0.1:PORT (listening,
 * for TCP), as /proc/net says, without connecting to it. Python reads the
 * table: Deno allows /proc/net only with --allow-all.
 */
const WAIT_BOUND = `import sys, time
port, transport = int(sys.argv[1]), sys.argv[2]
local = '0100007F:%04X' % port
state = '0A' if transport == 'tcp' else '07'
for _ in range(1000):
    with open('/proc/net/' + transport) as table:
        for row in table.readlines()[1:]:
            fields = row.split()
            if fields[1] == local and fields[3] == state:
                sys.exit(0)
    time.sleep(0.01)
sys.exit('nothing bound %s 127.0.0.1:%d in 10 s' % (transport, port))
`;

async function bound(port: number, transport: "tcp" | "udp"): Promise<void> {
  await python(WAIT_BOUND, `${port}`, transport, { timeoutMs: 15_000 });
}

async function listDir(dir: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** Bytes that differ from position to position, so a misplaced one shows. */
function sample(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 255;
  return bytes;
}

/** A temporary directory, removed by `await using`. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "seeds_test_" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

// --- the phone pair ---------------------------------------------------------

Deno.test("phone.ts server: the tutorial's clients, one after the other (connect_ex one-shot, the stdin loop, 003's, 004's)", async () => {
  const port = freeTcpPort();
  await using server = await example("phone", "server", { port });
  await server.waitFor(/^phone server listening on 127\.0\.0\.1:\d+/);

  // The one-shot client: 'LHF nb' with no newline, one recv(1024).
  {
    await using client = runPython(PHONE_CLIENT_ONCE, `${port}`);
    const { code, stdout, stderr } = await within(
      client.finish(),
      15_000,
      "the one-shot client",
    );
    assertEquals([code, stdout, stderr], [0, "LHF NB\n", ""]);
  }
  await server.waitFor(/^from client 127\.0\.0\.1:\d+: "LHF nb"$/);

  // The while-True client, typed into: each line a message, each reply
  // printed as Python prints bytes.
  {
    await using client = runPython(PHONE_CLIENT_LOOP, `${port}`, {
      stdin: "piped",
    });
    await client.write("hello\n");
    assertEquals(
      await within(client.readLine(), 15_000, "reply"),
      ">>>: b'HELLO'",
    );
    await client.write("sticky packets 粘包\n");
    assertEquals(
      await within(client.readLine(), 15_000, "reply"),
      `>>>: ${"b'STICKY PACKETS \\xe7\\xb2\\x98\\xe5\\x8c\\x85'"}`,
    );
    // The tutorial's loop has no way out: end of input is an EOFError.
    await client.closeStdin();
    const { code, stderr } = await within(client.finish(), 15_000, "exit");
    assertEquals(code, 1);
    assertStringIncludes(stderr, "EOFError");
  }
  await server.waitFor(/: "sticky packets 粘包"$/);

  // 003's client: b'hello!' answered b'HELLO!'.
  {
    await using client = runPython(TCP_CLIENT_003, `${port}`);
    const { code, stdout } = await within(client.finish(), 15_000, "003");
    assertEquals([code, stdout], [0, "b'HELLO!'\n"]);
  }
  // 004's client sends and leaves without reading: the reply meets a closed
  // socket (the client's side may reset). That is only the end of its call.
  {
    await using client = runPython(TCP_CLIENT_004, `${port}`);
    assertEquals((await within(client.finish(), 15_000, "004")).code, 0);
  }
  await server.waitFor(/: "hello,world"$/);
  {
    await using client = runPython(PHONE_CLIENT_ONCE, `${port}`);
    const { stdout } = await within(client.finish(), 15_000, "after 004");
    assertEquals(stdout, "LHF NB\n");
  }

  await interrupt(server);
  const calls = server.lines.filter((line) => line.startsWith("client: "));
  assertEquals(calls.length, 5, server.describe());
  const ends = server.lines.filter((line) =>
    / (hung up|was cut off)/.test(line)
  );
  assertEquals(ends.length, 5, server.describe());
  assertEquals(server.stderr, "");
});

Deno.test("phone.ts server: a tutorial client killed mid-conversation, or resetting, ends only its own call", async () => {
  const port = freeTcpPort();
  await using server = await example("phone", "server", { port });
  await server.waitFor(/^phone server listening on/);
  {
    await using client = runPython(PHONE_CLIENT_LOOP, `${port}`, {
      stdin: "piped",
    });
    await client.write("first\n");
    assertEquals(
      await within(client.readLine(), 15_000, "reply"),
      ">>>: b'FIRST'",
    );
    client.kill("SIGKILL");
    assertEquals((await within(client.finish(), 15_000, "kill")).code, 137);
  }
  await server.waitFor(/ hung up$| was cut off/);
  // A client that resets the connection mid-call: the loop client's first
  // exchange, then a close with SO_LINGER 0 (a reset, not a hang-up).
  {
    await using client = runPython(
      `import socket, struct, sys
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect(("127.0.0.1", int(sys.argv[1])))
client.send("reset me".encode("utf-8"))
data = client.recv(1024)
print(data)
client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
client.close()
`,
      `${port}`,
    );
    const { code, stdout } = await within(client.finish(), 15_000, "reset");
    assertEquals([code, stdout], [0, "b'RESET ME'\n"]);
  }
  await server.waitFor(/ was cut off \(ECONNRESET\)$/);
  // The next caller is served.
  {
    await using client = runPython(PHONE_CLIENT_ONCE, `${port}`);
    const { stdout } = await within(client.finish(), 15_000, "next caller");
    assertEquals(stdout, "LHF NB\n");
  }
  // Ctrl-C with a caller on the line: the server hangs up and stops (exit 0).
  {
    await using client = runPython(PHONE_CLIENT_LOOP, `${port}`, {
      stdin: "piped",
    });
    await client.write("still there?\n");
    assertEquals(
      await within(client.readLine(), 15_000, "reply"),
      ">>>: b'STILL THERE?'",
    );
    await interrupt(server);
  }
  assert(
    server.lines.some((line) =>
      /^hung up on 127\.0\.0\.1:\d+: the server is stopping$/.test(line)
    ),
    server.describe(),
  );
  assertEquals(
    server.lines.filter((line) => line.startsWith("client: ")).length,
    4,
    server.describe(),
  );
  assertEquals(server.stderr, "");
});

Deno.test("phone.ts client: against the tutorial's loop server (SO_REUSEADDR), two clients one after the other", async () => {
  const port = freeTcpPort();
  await using python = runPython(PHONE_SERVER_LOOP, `${port}`);
  await bound(port, "tcp");
  for (const words of [["hello", "world"], ["again"]]) {
    await using client = await example("phone", "client", {
      port,
      stdin: "piped",
    });
    for (const word of words) await client.write(`${word}\n`);
    await client.closeStdin();
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines, words.map((word) => word.toUpperCase()));
  }
  python.kill();
  const { stdout } = await within(python.finish(), 15_000, "the server");
  const lines = stdout.split("\n");
  assertEquals(
    lines.filter((line) => line.startsWith("client : ('127.0.0.1', ")).length,
    2,
    stdout,
  );
  assertEquals(
    lines.filter((line) => line.startsWith("from client msg: ")),
    [
      "from client msg: b'hello'",
      "from client msg: b'world'",
      "from client msg: b'again'",
    ],
  );
});

Deno.test("phone.ts client: against the tutorial's one-shot servers (001's, 003's)", async () => {
  {
    const port = freeTcpPort();
    await using python = runPython(PHONE_SERVER_ONCE, `${port}`);
    await bound(port, "tcp");
    await using client = await example("phone", "client", {
      port,
      stdin: "piped",
    });
    await client.write("LHF nb\n");
    await client.closeStdin();
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines, ["LHF NB"]);
    const { code, stdout } = await within(python.finish(), 15_000, "001");
    assertEquals(code, 0);
    assertEquals(
      stdout,
      "接到来自127.0.0.1的电话\nb'LHF nb' <class 'bytes'>\n",
    );
  }
  {
    const port = freeTcpPort();
    await using python = runPython(TCP_SERVER_003, `${port}`);
    await bound(port, "tcp");
    await using client = await example("phone", "client", {
      port,
      stdin: "piped",
    });
    await client.write("hello\n");
    await client.closeStdin();
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines, ["hi"]);
    const { code, stdout } = await within(python.finish(), 15_000, "003");
    assertEquals([code, stdout], [0, "b'hello'\n"]);
  }
  {
    // A second line to a server that has hung up: a clear error, exit 1.
    const port = freeTcpPort();
    await using python = runPython(TCP_SERVER_003, `${port}`);
    await bound(port, "tcp");
    await using client = await example("phone", "client", {
      port,
      stdin: "piped",
    });
    await client.write("hello\n");
    await client.waitFor(/^hi$/);
    await within(python.finish(), 15_000, "003");
    await client.write("anyone there?\n");
    await client.closeStdin();
    assertEquals((await client.exit()).code, 1, client.describe());
    assertMatch(client.stderr, /^error: .*(hung up|reset|EPIPE|broken)/im);
  }
});

Deno.test("phone.ts shows where sticky packets bite: a 1500-byte line comes back in two replies, one line late", async () => {
  const port = freeTcpPort();
  await using server = await example("phone", "server", { port });
  await server.waitFor(/^phone server listening on/);
  {
    await using client = await example("phone", "client", {
      port,
      stdin: "piped",
    });
    await client.write(`${"a".repeat(1500)}\nx\n`);
    await client.closeStdin();
    assertEquals((await client.exit()).code, 0, client.describe());
    // One recv(1024) per line: the first reply is cut at 1024 bytes, and the
    // answer to "x" starts with the rest of the answer to the long line.
    assertEquals(client.lines.length, 2, client.describe());
    assert(client.lines[0].length <= 1024, client.describe());
    assert(/^A+$/.test(client.lines[0]), client.describe());
    assert(client.lines[1].startsWith("A"), client.describe());
    assert(
      (`${"A".repeat(1500)}X`).startsWith(client.lines.join("")),
      client.describe(),
    );
  }
  await interrupt(server);
  // The server received the long line in more than one piece.
  assert(
    server.lines.filter((line) => /: "a+"$/.test(line)).length >= 2,
    server.describe(),
  );
});

// --- the upload -------------------------------------------------------------

Deno.test("file_transfer.ts receive: the tutorial's upload, struct.pack('i') and '!i', and a short body leaves nothing", async () => {
  await using root = await tempDir();
  const inbox = `${root.path}/inbox`;
  const port = freeTcpPort();
  await using receiver = await example(
    "file_transfer",
    "receive --dir ./inbox",
    { port, paths: { "./inbox": inbox } },
  );
  await receiver.waitFor(/^receiving files into .* on 127\.0\.0\.1:\d+/);

  const body = sample(200_000);
  await Deno.writeFile(`${root.path}/photo.jpg`, body);
  await Deno.writeFile(`${root.path}/network.bin`, body.subarray(0, 5000));
  await Deno.writeFile(`${root.path}/empty.txt`, new Uint8Array(0));
  await Deno.writeFile(`${root.path}/short.bin`, body.subarray(0, 3000));

  // As written (native order: little-endian), then with '!i' (big-endian),
  // then an empty file.
  const uploads: [string, string][] = [
    [UPLOAD_CLIENT, "photo.jpg"],
    [
      edit(UPLOAD_CLIENT, "struct.pack('i'", "struct.pack('!i'"),
      "network.bin",
    ],
    [UPLOAD_CLIENT, "empty.txt"],
  ];
  for (const [code, name] of uploads) {
    await using client = runPython(code, `${port}`, `${root.path}/${name}`);
    const result = await within(client.finish(), 30_000, `upload ${name}`);
    assertEquals([result.code, result.stderr], [0, ""]);
    await receiver.waitFor(
      new RegExp(
        `^received ${
          name.replace(".", "\\.")
        } \\(\\d+ bytes, sha256 [0-9a-f]{64}\\) from 127\\.0\\.0\\.1:\\d+ in the tutorial's format`,
      ),
    );
    assertEquals(
      await Deno.readFile(`${inbox}/${name}`),
      await Deno.readFile(`${root.path}/${name}`),
    );
  }

  // A short body: the header announces 1000 bytes more than are sent (the
  // one change: `filesize + 1000` in the dict). Nothing is left behind.
  {
    await using client = runPython(
      edit(
        UPLOAD_CLIENT,
        "'filesize': filesize}",
        "'filesize': filesize + 1000}",
      ),
      `${port}`,
      `${root.path}/short.bin`,
    );
    assertEquals((await within(client.finish(), 30_000, "short")).code, 0);
  }
  await receiver.waitFor(
    /^transfer of short\.bin from .* failed: SocketError: .* ended after 3000/,
  );

  // An upload of a name that exists: refused, the file untouched.
  {
    await using client = runPython(
      UPLOAD_CLIENT,
      `${port}`,
      `${root.path}/network.bin`,
    );
    await within(client.finish(), 30_000, "again");
  }
  await receiver.waitFor(/^refused network\.bin from .*: it already exists/);

  await interrupt(receiver);
  assertEquals(await listDir(inbox), ["empty.txt", "network.bin", "photo.jpg"]);
  assertEquals(
    await Deno.readFile(`${inbox}/network.bin`),
    body.subarray(0, 5000),
  );
});

Deno.test("file_transfer.ts send --format tutorial: the tutorial's receiving server stores the file", async () => {
  await using root = await tempDir();
  const port = freeTcpPort();
  const source = `${root.path}/photo.jpg`;
  const body = sample(300_000);
  await Deno.writeFile(source, body);
  const stored = `${root.path}/stored`;
  await Deno.mkdir(stored);

  await using python = runPython(UPLOAD_SERVER, `${port}`, { cwd: stored });
  await bound(port, "tcp");
  await using sender = await example(
    "file_transfer",
    "send ./photo.jpg --format tutorial",
    { port, paths: { "./photo.jpg": source } },
  );
  assertEquals((await sender.exit(30_000)).code, 0, sender.describe());
  assertMatch(
    sender.lines.join("\n"),
    /^sent photo\.jpg: 300000 bytes, sha256 [0-9a-f]{64}, in the tutorial's format; the receiver hung up/,
  );
  const { code, stderr } = await within(python.finish(), 15_000, "server");
  assertEquals([code, stderr], [0, ""]);
  assertEquals(await listDir(stored), ["photo.jpg"]);
  assertEquals(await Deno.readFile(`${stored}/photo.jpg`), body);
});

Deno.test("file_transfer.ts send --format tutorial to its own receiver, and a refusal shows as a reset", async () => {
  await using root = await tempDir();
  const inbox = `${root.path}/inbox`;
  const source = `${root.path}/photo.jpg`;
  await Deno.writeFile(source, sample(100_000));
  const port = freeTcpPort();
  const paths = { "./inbox": inbox, "./photo.jpg": source };
  await using receiver = await example(
    "file_transfer",
    "receive --dir ./inbox",
    { port, paths },
  );
  await receiver.waitFor(/^receiving files into/);
  {
    await using sender = await example(
      "file_transfer",
      "send ./photo.jpg --format tutorial",
      { port, paths },
    );
    assertEquals((await sender.exit(30_000)).code, 0, sender.describe());
  }
  await receiver.waitFor(/^received photo\.jpg .* in the tutorial's format/);
  assertEquals(
    await Deno.readFile(`${inbox}/photo.jpg`),
    await Deno.readFile(source),
  );
  // Again: the name exists. The tutorial's protocol has no answer, so the
  // sender can learn it only from the connection: reset (the receiver closed
  // with body bytes unread), or a clean close if it had read them all.
  {
    await using sender = await example(
      "file_transfer",
      "send ./photo.jpg --format tutorial",
      { port, paths },
    );
    const { code } = await sender.exit(30_000);
    if (code === 1) {
      assertMatch(sender.stderr, /^error: .*(reset|broken)/im);
    } else {
      assertEquals(code, 0, sender.describe());
      assertStringIncludes(sender.lines.join("\n"), "the receiver hung up");
    }
  }
  await receiver.waitFor(/^refused photo\.jpg .*: it already exists/);
  await interrupt(receiver);
  assertEquals(await listDir(inbox), ["photo.jpg"]);
});

Deno.test("message({ littleEndian: true, sizeKey: 'filesize' }).head speaks to the tutorial's receiving server", async () => {
  await using root = await tempDir();
  const port = freeTcpPort();
  await using python = runPython(UPLOAD_SERVER, `${port}`, { cwd: root.path });
  await bound(port, "tcp");
  const body = sample(70_000);
  const upload = message({ littleEndian: true, sizeKey: "filesize" });
  {
    await using socket = await connect({ port, timeout: 5000 });
    socket.timeout = 15_000;
    await socket.sendFrame(
      { filename: "a.bin", filesize: body.length },
      upload.head,
    );
    await socket.send(body);
    await socket.closeWrite();
    assertEquals(await socket.recv(), null); // it hangs up when it has it all
  }
  assertEquals((await within(python.finish(), 15_000, "server")).code, 0);
  assertEquals(await Deno.readFile(`${root.path}/a.bin`), body);
});

// --- UDP ----------------------------------------------------------------------

Deno.test("udp_echo.ts server: the tutorials' UDP clients (recvfrom(1024), recvfrom(3), sendto(b''), sendto alone)", async () => {
  const port = freeUdpPort();
  await using server = await example("udp_echo", "server", { port });
  await server.waitFor(/^udp echo server listening on 127\.0\.0\.1:\d+/);
  const run = async (code: string) => {
    await using client = runPython(code, `${port}`);
    return await within(client.finish(), 15_000, "a UDP client");
  };
  assertEquals((await run(UDP_CLIENT_003)).stdout, "hello\n");
  // A 3-byte buffer cuts the 11-byte echo short; the rest is lost.
  assertEquals((await run(UDP_CLIENT_004_RECVFROM_3)).stdout, "b'hel'\n");
  // An empty datagram is a datagram: sent, echoed, received as b''.
  const empty = await run(UDP_CLIENT_EMPTY);
  assertEquals([empty.code, empty.stdout], [0, "\n"]);
  assertEquals((await run(UDP_CLIENT_004)).code, 0);
  // 004's client does not wait for the echo: wait for the server's line.
  const received = () =>
    server.lines.filter((line) => / sent \d+ bytes: /.test(line)).length;
  for (let i = 0; i < 1000 && received() < 4; i++) await delay(10);
  server.kill("SIGINT");
  assertEquals((await server.exit()).code, 0, server.describe());
  assertEquals(
    server.lines.filter((line) => / sent \d+ bytes: /.test(line))
      .map((line) => line.replace(/^127\.0\.0\.1:\d+ /, "")),
    [
      'sent 5 bytes: "hello"',
      'sent 11 bytes: "hello,world"',
      'sent 0 bytes: ""',
      'sent 11 bytes: "hello,world"',
    ],
  );
});

Deno.test("udp_echo.ts client: against the tutorials' UDP servers (001's upper-casing loop, 003's one-shot)", async () => {
  {
    const port = freeUdpPort();
    await using python = runPython(UDP_SERVER_001, `${port}`);
    await bound(port, "udp");
    await using client = await example("udp_echo", "client", { port });
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines.slice(0, 2), [
      'sent 5 bytes "hello", got 5 bytes "HELLO"',
      'sent 0 bytes "", got 0 bytes "" (an empty datagram is still a datagram)',
    ]);
    assertMatch(
      client.lines[2],
      /^sent 56 bytes .*, got 16 bytes "THIS DATAGRAM IS" \(truncated/,
    );
    python.kill();
    const { stdout } = await within(python.finish(), 15_000, "001");
    assertEquals(
      stdout.split("\n").slice(0, 2).map((line) => line.split(" (")[0]),
      ["b'hello'", "b''"],
    );
  }
  {
    const port = freeUdpPort();
    await using python = runPython(UDP_SERVER_003, `${port}`);
    await bound(port, "udp");
    await using client = await example("udp_echo", "client", {
      port,
      extra: ["hello"],
    });
    assertEquals((await client.exit()).code, 0, client.describe());
    assertEquals(client.lines, ['sent 5 bytes "hello", got 2 bytes "hi"']);
    const { code, stdout } = await within(python.finish(), 15_000, "003");
    assertEquals([code, stdout], [0, "b'hello'\n"]);
  }
});

// --- the sticky-packet fix, at library level ---------------------------------

Deno.test("serve() with lengthPrefixed({ littleEndian: true }) receives 1,000 struct.pack('i') messages from a tight Python loop exactly", async () => {
  const received: string[] = [];
  const errors: unknown[] = [];
  const server = serve({
    port: 0,
    framing: lengthPrefixed({ littleEndian: true }),
    onError: (error) => errors.push(error),
  }, async (socket) => {
    for await (const frame of socket.frames()) {
      received.push(decoder.decode(frame));
    }
  });
  try {
    await using client = runPython(
      PACKED_MESSAGES_CLIENT,
      `${server.addr.port}`,
      "i",
    );
    const { code, stderr } = await within(client.finish(), 30_000, "client");
    assertEquals([code, stderr], [0, ""]);
    for (let i = 0; i < 500 && received.length < 1000; i++) await delay(10);
  } finally {
    await within(server.shutdown(), 10_000, "shutdown");
  }
  assertEquals(errors, []);
  assertEquals(received.length, 1000);
  assertEquals(received, EXPECTED_MESSAGES);
});

Deno.test("serve() with the default framing: struct.pack('!i') works as is, struct.pack('i') fails with the byte-order hint", async () => {
  for (const format of ["!i", "i"]) {
    const received: string[] = [];
    const errors: unknown[] = [];
    const server = serve({
      port: 0,
      onError: (error) => errors.push(error),
    }, async (socket) => {
      for await (const frame of socket.frames()) {
        received.push(decoder.decode(frame));
      }
    });
    try {
      await using client = runPython(
        PACKED_MESSAGES_CLIENT,
        `${server.addr.port}`,
        format,
      );
      // 'i' may meet a closed connection: the server drops it at the header.
      await within(client.finish(), 30_000, "client");
      for (
        let i = 0;
        i < 500 && received.length < 1000 && errors.length === 0;
        i++
      ) await delay(10);
    } finally {
      await within(server.shutdown(), 10_000, "shutdown");
    }
    if (format === "!i") {
      assertEquals(errors, []);
      assertEquals(received, EXPECTED_MESSAGES);
    } else {
      // The first message is empty: a length of 0 reads the same either way.
      assertEquals(received, [""]);
      assertEquals(errors.length, 1);
      const error = errors[0];
      assert(error instanceof FrameError, String(error));
      assertEquals(error.code, "FRAME_TOO_LARGE");
      assertStringIncludes(
        error.message,
        '(read little-endian it would be 10 bytes: does the peer use struct.pack("i")?)',
      );
    }
  }
});

// --- the files themselves, and TIME_WAIT ----------------------------------

Deno.test("every tutorial program the README names is a file in examples/tutorials/, with its origin and a command to run against it", async () => {
  const readme = await Deno.readTextFile(
    new URL("../../README.md", import.meta.url),
  );
  const section = readme.slice(
    readme.indexOf("## From the tutorials"),
    readme.indexOf("## Running on a network"),
  );
  const named = new Set(section.match(/\b[a-z0-9_]+\.py\b/g));
  const files = new Set<string>();
  for await (const entry of Deno.readDir(TUTORIALS)) {
    if (entry.name.endsWith(".py")) files.add(entry.name);
  }
  assert(named.size >= 14, [...named].join(", "));
  assertEquals([...named].filter((name) => !files.has(name)), []);
  assertEquals([...files].filter((name) => !named.has(name)), []);
  for (const name of files) {
    const code = await Deno.readTextFile(new URL(name, TUTORIALS));
    // Its header names the tutorial it comes from.
    assertMatch(
      code.replaceAll("\n# ", " "),
      /shared\/ ?seeds 00[0-4]\b/,
      name,
    );
    assertMatch(code, /^# Against it: (deno|a server)/m, name);
    assertStringIncludes(code, "TUTORIAL_PORT", name);
  }
});

Deno.test("TIME_WAIT: a tutorial server without SO_REUSEADDR cannot rebind a port it just closed first; listen() and phone_server.py can", async () => {
  const port = freeTcpPort();
  {
    // The server hangs up first: its side of the connection is in TIME_WAIT.
    using server = listen({ port });
    const accepted = server.accept();
    await using client = await connect({ port, timeout: 5000 });
    const peer = await accepted;
    peer.close();
    client.timeout = 5000;
    assertEquals(await client.recv(), null);
  }
  const { code, stderr } = await within(
    runPython(TCP_SERVER_003, `${port}`).finish(),
    15_000,
    "tcp_server.py",
  );
  assertEquals(code, 1);
  assertStringIncludes(stderr, "Address already in use");
  // Our listen() binds it again at once...
  listen({ port }).close();
  // ...and so does the tutorial's server with its setsockopt line.
  await using looping = runPython(PHONE_SERVER_LOOP, `${port}`);
  await bound(port, "tcp");
  looping.kill();
});
