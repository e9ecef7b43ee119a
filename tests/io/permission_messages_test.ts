// First contact (issue #23): a permission error says which grant is missing
// and why the grant the user gave is not it. Each case runs a small program
// in its own process with exact --allow-net flags, as a user would, and
// reads the SocketError it prints (the code stays EPERM).

import {
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "../_helpers/assert.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;
const KILL_AFTER_MS = 20_000;

// Prints the code and message of the SocketError `attempt` throws.
const PROGRAM = `
import { bindUdp, connect, listen } from "${MOD}";
const [what, arg] = Deno.args;
try {
  if (what === "connect") await connect({ hostname: arg, port: 9100 });
  if (what === "unix") await connect({ path: arg });
  if (what === "udp") bindUdp();
  console.log("no error");
} catch (error) {
  console.log(error.code);
  console.log(error.message);
}
`;

interface Outcome {
  code: number;
  stdout: string[];
  stderr: string;
}

/** Runs PROGRAM (or `code`) with `flags`, in a directory of its own. */
async function run(
  flags: string[],
  args: string[],
  code = PROGRAM,
): Promise<Outcome> {
  const dir = await Deno.makeTempDir({ prefix: "permission_test_" });
  try {
    await Deno.writeTextFile(`${dir}/program.ts`, code);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        "--unstable-net",
        ...flags.map((flag) => flag.replaceAll("$DIR", dir)),
        "program.ts",
        ...args.map((arg) => arg.replaceAll("$DIR", dir)),
      ],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
    try {
      const output = await child.output();
      const decoder = new TextDecoder();
      return {
        code: output.code,
        stdout: decoder.decode(output.stdout).split("\n").filter((l) => l),
        stderr: decoder.decode(output.stderr).replaceAll(dir, "$DIR"),
      };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("permission: --allow-net for another port names the missing grant and the flag to add", async () => {
  const outcome = await run(["--allow-net=127.0.0.1:9000"], [
    "connect",
    "127.0.0.1",
  ]);
  assertEquals(outcome.code, 0, outcome.stderr);
  assertEquals(outcome.stdout, [
    "EPERM",
    'Cannot connect to 127.0.0.1:9100: Requires net access to "127.0.0.1:9100": the program\'s --allow-net does not include 127.0.0.1:9100; add it (--allow-net=127.0.0.1:9100, comma-separated with the others), or use an address it grants',
  ]);
});

Deno.test("permission: 127.0.0.1 granted, localhost used: says they are separate grants", async () => {
  for (const grant of ["127.0.0.1", "127.0.0.1:9100"]) {
    const outcome = await run([`--allow-net=${grant}`], [
      "connect",
      "localhost",
    ]);
    assertEquals(outcome.code, 0, outcome.stderr);
    assertEquals(outcome.stdout[0], "EPERM");
    assertEquals(
      outcome.stdout[1],
      'Cannot connect to localhost:9100: Requires net access to "localhost:9100": --allow-net grants 127.0.0.1:9100, but this needs localhost:9100: localhost, 127.0.0.1 and [::1] are separate grants. Grant the name the program uses (--allow-net=localhost:9100), or use the address that is granted',
    );
  }
  // The other way round too.
  const reverse = await run(["--allow-net=localhost"], [
    "connect",
    "127.0.0.1",
  ]);
  assertStringIncludes(
    reverse.stdout[1],
    "--allow-net grants localhost:9100, but this needs 127.0.0.1:9100: localhost, 127.0.0.1 and [::1] are separate grants",
  );
});

Deno.test("permission: a UDP client granted only the server's address is told it needs 127.0.0.1:0 too", async () => {
  const outcome = await run(["--allow-net=127.0.0.1:9000"], ["udp"]);
  assertEquals(outcome.code, 0, outcome.stderr);
  assertEquals(outcome.stdout, [
    "EPERM",
    'Cannot bind UDP socket to 127.0.0.1:0: Requires net access to "127.0.0.1:0": binding a port the OS picks needs --allow-net=127.0.0.1:0 (a UDP client binds its own port before it sends: grant 127.0.0.1:0 besides the server\'s address, e.g. --allow-net=127.0.0.1:0,127.0.0.1:9000)',
  ]);
});

Deno.test("permission: a Unix socket path is granted by its absolute path; the message names it", async () => {
  const outcome = await run(
    ["--allow-net=127.0.0.1", "--allow-read=$DIR", "--allow-write=$DIR"],
    ["unix", "./app.sock"],
  );
  assertEquals(outcome.code, 0, outcome.stderr);
  assertEquals(outcome.stdout[0], "EPERM");
  assertMatch(
    outcome.stdout[1],
    /^Cannot connect to unix:\.\/app\.sock: Requires net access to "unix:(\/.+)\/app\.sock": grant exactly this socket's path: --allow-net=unix:\1\/app\.sock \(a Unix socket grant is the absolute path of the socket file; a relative one such as unix:\.\/app\.sock is refused by Deno before the program starts\)$/,
  );
});

Deno.test("permission: a relative unix: grant is refused by Deno before the program runs (what the Unix hint warns of)", async () => {
  // The library cannot catch this one: the runtime rejects the flag itself.
  const outcome = await run(
    ["--allow-net=unix:./app.sock", "--allow-read=.", "--allow-write=."],
    ["unix", "./app.sock"],
  );
  assertEquals(outcome.code, 1);
  assertEquals(outcome.stdout, []);
  assertStringIncludes(
    outcome.stderr,
    "invalid unix socket: 'unix:./app.sock' (path must be absolute and non-empty)",
  );
  // With the absolute path the same program gets past its permission check
  // to the missing file.
  const absolute = await run(
    [
      "--allow-net=unix:$DIR/app.sock",
      "--allow-read=$DIR",
      "--allow-write=$DIR",
    ],
    ["unix", "./app.sock"],
  );
  assertEquals(absolute.stdout[0], "ENOENT", absolute.stderr);
});
