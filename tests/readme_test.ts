// Every ```ts block of README.md that is meant to run runs to completion as
// printed, in its own process with narrow permissions, within 20 s, and
// prints what its comments promise. (`deno task test` also runs the same
// blocks in-process through `--doc`; this test adds what that cannot see: a
// block that never exits, prints nothing, or needs more permissions than a
// reader would grant.) Blocks marked `ts ignore` are listed in IGNORED with
// the reason; the UDP pair is run here as a pair.

import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
} from "./_helpers/assert.ts";
import { freeUdpPort, ROOT } from "./_helpers/examples.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);
const MOD = new URL("../mod.ts", import.meta.url).href;
const KILL_AFTER_MS = 20_000;

interface Block {
  /** The heading above it, and its number under that heading: "## UDP #2". */
  where: string;
  /** Its line in README.md. */
  line: number;
  ignored: boolean;
  code: string;
}

function blocks(): Block[] {
  const found: Block[] = [];
  const lines = README.split("\n");
  let heading = "";
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^#+ /.test(line)) {
      heading = line;
      count = 0;
      continue;
    }
    const fence = /^```ts( .*)?$/.exec(line);
    if (!fence) continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== "```") i++;
    count++;
    found.push({
      where: `${heading} #${count}`,
      line: start,
      ignored: /\bignore\b/.test(fence[1] ?? ""),
      code: lines.slice(start, i + 1).join("\n"),
    });
    i++;
  }
  return found;
}

/** What a block needs and prints; stdout is compared line by line. */
interface Expectation {
  /** Deno flags beyond the file; `$TMP` is the block's own directory. */
  flags: string[];
  stdout: string[];
}

const RUN: Record<string, Expectation> = {
  "## Framing #1": { flags: [], stdout: ["abc 0", "INCOMPLETE_FRAME"] },
  "## TCP #1": { flags: ["--allow-net=127.0.0.1"], stdout: ["hello"] },
  "### Streaming large bodies #1": {
    flags: ["--allow-net=127.0.0.1", "--allow-read=$TMP", "--allow-write=$TMP"],
    stdout: ["stored", "received 3000000 bytes"],
  },
  "## TLS and Unix domain sockets #1": {
    flags: ["--allow-net=127.0.0.1", "--allow-read=tests/fixtures"],
    stdout: ["tls over TLS"],
  },
  "### Request and reply #1": {
    flags: ["--allow-net=127.0.0.1"],
    stdout: ["7 re: ping"],
  },
  "### Example: a line server with its limits set #1": {
    flags: ["--allow-net=127.0.0.1"],
    stdout: ["hello"],
  },
};

const IGNORED: Record<string, string> = {
  "## Servers on every core #1":
    "a handler module, a file of its own for the workers: examples/echo_workers.ts is this module and program in one, run by tests/examples_test.ts",
  "## Servers on every core #2":
    "serves port 9000 until stopped; tests/socket/workers_test.ts runs serveWorkers the same way on a free port",
  "### Protocols you already speak #1":
    "needs a PostgreSQL server on 127.0.0.1:5432; tests/postgres_test.ts runs examples/postgres.ts, the same protocol, against a real one",
  "## UDP #1":
    "an echo server that runs until it is killed: run below as the client's peer",
  "## UDP #2":
    "needs the server above: run below against it, and alone (it must say that nobody answered)",
};

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `code` (a README block, "@wire/socket" pointing at mod.ts) as a
 * script in a directory of its own, from the repository's root; kills it
 * and fails after 20 s. `started` runs once it is spawned.
 */
async function runBlock(
  name: string,
  code: string,
  flags: string[],
  started?: (child: Deno.ChildProcess) => Promise<void>,
): Promise<Outcome> {
  const dir = await Deno.makeTempDir({ prefix: "readme_test_" });
  try {
    const file = `${dir}/block.ts`;
    await Deno.writeTextFile(
      file,
      code.replaceAll('"@wire/socket"', `"${MOD}"`),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        "--unstable-net",
        ...flags.map((flag) => flag.replaceAll("$TMP", dir)),
        file,
      ],
      cwd: ROOT,
      env: { TMPDIR: dir, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      child.kill("SIGKILL");
    }, KILL_AFTER_MS);
    try {
      const output = child.output();
      if (started) await started(child);
      const { code, stdout, stderr } = await output;
      const decoder = new TextDecoder();
      const outcome = {
        code,
        stdout: decoder.decode(stdout),
        stderr: decoder.decode(stderr),
      };
      assert(
        !expired,
        `${name} was still running after ${KILL_AFTER_MS} ms and was killed; it wrote ${
          JSON.stringify(outcome)
        }`,
      );
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const lines = (text: string) => text.split("\n").filter((line) => line !== "");

Deno.test("README: every ts block is either run here or ignored with a reason", () => {
  const all = blocks();
  assert(all.length >= 8, `only ${all.length} ts blocks found`);
  for (const block of all) {
    if (block.ignored) {
      assert(
        block.where in IGNORED,
        `README.md:${block.line} (${block.where}) is "ts ignore" with no reason in tests/readme_test.ts`,
      );
    } else {
      assert(
        block.where in RUN,
        `README.md:${block.line} (${block.where}) runs, but tests/readme_test.ts says nothing of what it prints`,
      );
    }
  }
  assertEquals(
    Object.keys(RUN).sort(),
    all.filter((block) => !block.ignored).map((block) => block.where).sort(),
  );
  assertEquals(
    Object.keys(IGNORED).sort(),
    all.filter((block) => block.ignored).map((block) => block.where).sort(),
  );
});

for (const block of blocks().filter((block) => !block.ignored)) {
  const expected = RUN[block.where];
  if (expected === undefined) continue; // the test above fails
  Deno.test(
    `README.md:${block.line} (${block.where}) runs to completion and prints ${
      JSON.stringify(expected.stdout)
    }`,
    async () => {
      const outcome = await runBlock(block.where, block.code, expected.flags);
      assertEquals(outcome.code, 0, outcome.stderr);
      assertEquals(lines(outcome.stdout), expected.stdout, outcome.stderr);
    },
  );
}

/** The UDP blocks with port 9999 replaced by a free one. */
function udpBlocks(port: number): { server: string; client: string } {
  const [server, client] = blocks().filter((block) =>
    block.where.startsWith("## UDP #")
  ).map((block) => block.code.replaceAll("9999", `${port}`));
  assert(server.includes("for await") && client.includes(".connect("));
  return { server, client };
}

Deno.test("README: the UDP client block gets its ping back from the UDP server block, with the permissions the table gives (the server: the host; the client: :0 and the server's port)", async () => {
  const port = freeUdpPort();
  const { server, client } = udpBlocks(port);
  let clientOutcome: Outcome | undefined;
  const serverOutcome = await runBlock(
    "the UDP server block",
    server,
    // A UDP server replies to each client's own port: any port on the host.
    ["--allow-net=127.0.0.1"],
    async (child) => {
      try {
        // The client retries 3 times, 500 ms apart: a server still starting
        // is met by a later try. Two rounds, in case it was slower still.
        for (let round = 0; round < 2; round++) {
          clientOutcome = await runBlock(
            "the UDP client block",
            client,
            [`--allow-net=127.0.0.1:0,127.0.0.1:${port}`],
          );
          if (clientOutcome.code === 0) break;
        }
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* it exited: its outcome says why */ }
      }
    },
  );
  assertEquals(serverOutcome.code, 137, serverOutcome.stderr); // killed
  assert(clientOutcome);
  assertEquals(clientOutcome.code, 0, clientOutcome.stderr);
  assertEquals(lines(clientOutcome.stdout), ["ping"]);
});

Deno.test("README: the UDP client block with nobody listening says so and exits 1", async () => {
  const port = freeUdpPort();
  const { client } = udpBlocks(port);
  const outcome = await runBlock("the UDP client block", client, [
    `--allow-net=127.0.0.1:0,127.0.0.1:${port}`,
  ]);
  assertEquals(outcome.code, 1);
  assertEquals(outcome.stdout, "");
  assertMatch(outcome.stderr, /no reply from 127\.0\.0\.1:\d+ in 3 tries/);
});

Deno.test("README's permission table: a UDP client needs 127.0.0.1:0 besides the server's port, a UDP server the whole host; localhost and 127.0.0.1 are separate grants", async () => {
  const port = freeUdpPort();
  const { client } = udpBlocks(port);
  // Only the server's port: binding the client's own port 0 is refused.
  const unbound = await runBlock("the UDP client block", client, [
    `--allow-net=127.0.0.1:${port}`,
  ]);
  assertNotEquals(unbound.code, 0);
  assertMatch(
    unbound.stderr,
    /EPERM|NotCapable|Requires net access to "127\.0\.0\.1:0"/,
  );
  assertMatch(unbound.stderr, /127\.0\.0\.1:0/);
  // A UDP server granted only its own port cannot answer: the reply goes to
  // the client's port.
  let refused: Outcome | undefined;
  const narrowServer = await runBlock(
    "the UDP server block",
    udpBlocks(port).server,
    [`--allow-net=127.0.0.1:${port}`],
    async () => {
      refused = await runBlock("the UDP client block", client, [
        `--allow-net=127.0.0.1:0,127.0.0.1:${port}`,
      ]);
    },
  );
  assertNotEquals(narrowServer.code, 0);
  assertMatch(narrowServer.stderr, /Requires net access to "127\.0\.0\.1:\d+"/);
  assertEquals(refused?.code, 1, refused?.stderr);
  // A TCP listener on 127.0.0.1 and a connect to "localhost": granting
  // 127.0.0.1 does not grant localhost.
  const localhost = await runBlock(
    "connect to localhost",
    `import { connect, listen } from "@wire/socket";
using server = listen({ port: 0 });
try {
  await connect({ hostname: "localhost", port: server.addr.port });
  console.log("connected");
} catch (error) {
  console.log((error as Error & { code?: string }).code);
}`,
    ["--allow-net=127.0.0.1"],
  );
  assertEquals(localhost.code, 0, localhost.stderr);
  assertEquals(lines(localhost.stdout), ["EPERM"]);
});
