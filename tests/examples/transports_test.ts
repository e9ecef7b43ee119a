// echo.ts and echo_client.ts over TLS (--tls) and a Unix domain socket
// (--path), each run as a child process with exactly the flags of its
// header's `// Run:` line for that mode (the port and socket path replaced
// by the test's own).

import { assert, assertEquals } from "../_helpers/assert.ts";
import {
  ExampleProcess,
  freeTcpPort,
  type RunLine,
  runLines,
  substitute,
} from "../_helpers/examples.ts";
import { exists } from "../_helpers/transports.ts";
import { python } from "../_helpers/python.ts";

/** The Run line of examples/`name`.ts whose arguments include `flag`. */
async function runLineWith(name: string, flag: string): Promise<RunLine> {
  const line = (await runLines(`examples/${name}.ts`)).find((line) =>
    line.args.includes(flag)
  );
  assert(line, `examples/${name}.ts has no Run line with ${flag}`);
  return line;
}

function start(line: RunLine, paths: Record<string, string>): ExampleProcess {
  return new ExampleProcess(
    substitute(line.flags, undefined, paths),
    line.script,
    substitute(line.args, undefined, paths),
  );
}

for (
  const [mode, sample] of [["--tls", "9443"], ["--path", "/tmp/echo.sock"]]
) {
  Deno.test(`echo.ts and echo_client.ts ${mode}: the client's frames come back; Ctrl-C stops the server`, async () => {
    const dir = Deno.makeTempDirSync({ prefix: "wire-echo-" });
    const path = `${dir}/echo.sock`;
    const to = mode === "--tls" ? String(freeTcpPort()) : path;
    try {
      await using server = start(await runLineWith("echo", mode), {
        [sample]: to,
      });
      await server.waitFor(/listening on/);
      assert(
        server.lines[0].includes(mode === "--tls" ? `:${to} (TLS)` : to),
        server.describe(),
      );
      await using client = start(await runLineWith("echo_client", mode), {
        [sample]: to,
      });
      const status = await client.exit();
      assertEquals(status.code, 0, client.describe());
      assertEquals(client.lines, ["echo: hello"]);
      await server.waitFor(/left after 9 bytes/);
      server.kill("SIGINT");
      assertEquals((await server.exit()).code, 0, server.describe());
      assert(server.lines.includes("stopped"), server.describe());
      // A Unix server that stops cleanly leaves no socket file behind.
      assertEquals(exists(path), false);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("echo_client.ts --path to a missing or stale socket file: one message, one hint", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "wire-echo-" });
  const path = `${dir}/echo.sock`;
  try {
    const line = await runLineWith("echo_client", "--path");
    {
      await using client = start(line, { "/tmp/echo.sock": path });
      assertEquals((await client.exit()).code, 1, client.describe());
      assertEquals(
        client.stderr.trim(),
        `error: Cannot connect to unix:${path}: no socket file there (is the server running?)`,
      );
    }
    // A socket file nobody listens on: what a server that died leaves
    // (Python's bind creates the file, and nothing removes it).
    await python(
      "import socket, sys\nsocket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      path,
    );
    assert(exists(path), "no stale socket file was made");
    {
      await using client = start(line, { "/tmp/echo.sock": path });
      assertEquals((await client.exit()).code, 1, client.describe());
      assertEquals(
        client.stderr.trim(),
        `error: Cannot connect to unix:${path}: the socket file is there, but nothing listens on it (left by a server that has exited?)`,
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
