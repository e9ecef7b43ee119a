// examples/postgres.ts against a real PostgreSQL 15 server: a throwaway one,
// initdb'd into a temp dir, listening on a free port of 127.0.0.1, stopped and
// removed in `finally`. The example runs as a child process with exactly the
// permission flags of its header's Run line (the port replaced by ours).
//
// The server runs as the "postgres" user when the tests run as root (initdb
// and postgres refuse root). pg_hba.conf: cleartext "password" for alice,
// scram-sha-256 for mallory (which the example must refuse), trust for the
// rest. PostgreSQL 15 must be installed (/usr/lib/postgresql/15/bin, the
// Debian package postgresql-15; .ci/run installs it): this test is never
// skipped.

import {
  assert,
  assertEquals,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { freeTcpPort, ROOT, runLines } from "../_helpers/examples.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const decoder = new TextDecoder();

/** What a command printed and how it exited. */
interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, killed after `timeoutMs`. */
async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } =
    {},
): Promise<Output> {
  const { timeoutMs = 60_000, ...rest } = options;
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
    ...rest,
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A PostgreSQL server of our own; `await using` stops it and removes its files. */
interface Server extends AsyncDisposable {
  port: number;
}

/** Whether the tests run as root (`id -u`: Deno.uid() would need --allow-sys). */
async function isRoot(): Promise<boolean> {
  return (await run("id", ["-u"])).stdout.trim() === "0";
}

/** Runs a PostgreSQL program as the server's owner: "postgres" when we are root. */
async function asOwner(program: string, args: string[], cwd: string) {
  const root = await isRoot();
  const output = await run(
    root ? "runuser" : `${PG_BIN}/${program}`,
    root ? ["-u", "postgres", "--", `${PG_BIN}/${program}`, ...args] : args,
    { cwd },
  );
  if (output.code !== 0) {
    throw new Error(
      `${program} ${
        args.join(" ")
      } failed (exit ${output.code}):\n${output.stdout}${output.stderr}`,
    );
  }
  return output;
}

async function startPostgres(): Promise<Server> {
  try {
    await Deno.stat(`${PG_BIN}/initdb`);
  } catch (error) {
    throw new Error(
      `PostgreSQL 15 is not installed (no ${PG_BIN}/initdb): apt-get install postgresql-15 (.ci/run does this)`,
      { cause: error },
    );
  }
  // A temp dir the server's user owns: made by that user when we are root.
  const dir = await isRoot()
    ? (await run("runuser", ["-u", "postgres", "--", "mktemp", "-d"]))
      .stdout.trim()
    : await Deno.makeTempDir();
  assert(dir.startsWith("/"), `no temp dir: ${dir}`);
  const data = `${dir}/data`;
  let started = false;
  const stop = async () => {
    try {
      if (started) {
        await asOwner(
          "pg_ctl",
          ["-D", data, "-m", "immediate", "-w", "stop"],
          dir,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  try {
    await asOwner("initdb", [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ], dir);
    // First match wins. The file keeps its owner (postgres) and mode.
    await Deno.writeTextFile(
      `${data}/pg_hba.conf`,
      [
        "local all all trust",
        "host all alice 127.0.0.1/32 password",
        "host all mallory 127.0.0.1/32 scram-sha-256",
        "host all all 127.0.0.1/32 trust",
        "",
      ].join("\n"),
    );
    const port = freeTcpPort();
    started = true; // From here on, stop it whatever happens.
    await asOwner("pg_ctl", [
      "-D",
      data,
      "-l",
      `${dir}/server.log`,
      "-w",
      "-t",
      "60",
      "-o",
      `-c port=${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off`,
      "start",
    ], dir);
    return { port, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs examples/postgres.ts with its header's flags; PGPASSWORD as given (else unset). */
async function example(
  port: number,
  args: string[],
  pgpassword = "",
): Promise<Output> {
  const [line] = await runLines("examples/postgres.ts");
  const flags = line.flags.map((flag) => flag.replaceAll(":5432", `:${port}`));
  assert(
    flags.includes(`--allow-net=127.0.0.1:${port}`),
    `the Run line's flags: ${line.flags}`,
  );
  return await run(
    Deno.execPath(),
    ["run", ...flags, line.script, "--port", String(port), ...args],
    { cwd: ROOT, env: { PGPASSWORD: pgpassword, NO_COLOR: "1" } },
  );
}

/** Asserts a clean run that printed `expected` (lines). */
function printed(output: Output, expected: string[]): void {
  assertEquals(output.code, 0, output.stderr);
  assertEquals(output.stdout, expected.join("\n") + "\n");
}

/** Asserts a run that failed with status 1 and `message` on stderr. */
function refused(output: Output, message: string): void {
  assertEquals(
    output.code,
    1,
    `stdout: ${output.stdout}\nstderr: ${output.stderr}`,
  );
  assertStringIncludes(output.stderr, message);
}

Deno.test("postgres example: tables, NULL, UTF-8, errors and logins against a real PostgreSQL 15", async (t) => {
  await using server = await startPostgres();
  const { port } = server;
  const as = (user: string, ...rest: string[]) => ["--user", user, ...rest];

  await t.step("statements without rows print their command tag", async () => {
    printed(
      await example(port, [
        ...as("postgres"),
        "CREATE ROLE alice LOGIN PASSWORD 'secret'; CREATE ROLE mallory LOGIN PASSWORD 'secret'",
      ]),
      ["CREATE ROLE", "", "CREATE ROLE"],
    );
  });

  await t.step(
    "a SELECT prints as a table: NULL, a multi-byte string, numbers right-aligned",
    async () => {
      printed(
        await example(port, [
          ...as("postgres", "--database", "postgres"),
          "SELECT * FROM (VALUES (1, 'ascii', NULL), (22, '多字节 ✓', 'x y')) AS t(id, name, note)",
        ]),
        [
          " id | name     | note",
          "----+----------+------",
          "  1 | ascii    | NULL",
          " 22 | 多字节 ✓ | x y",
          "(2 rows)",
        ],
      );
    },
  );

  await t.step("several results, an empty one among them", async () => {
    printed(
      await example(port, [
        ...as("postgres"),
        "SELECT 'one' AS a WHERE false; SELECT length('日本語') AS n, octet_length('日本語') AS bytes",
      ]),
      [
        " a",
        "---",
        "(0 rows)",
        "",
        " n | bytes",
        "---+-------",
        " 3 |     9",
        "(1 row)",
      ],
    );
  });

  await t.step(
    "an SQL error is printed with its SQLSTATE, exit 1",
    async () => {
      const output = await example(port, [
        ...as("postgres"),
        "SELECT * FROM no_such_table",
      ]);
      refused(output, 'ERROR 42P01: relation "no_such_table" does not exist');
      assertEquals(output.stdout, "");
    },
  );

  await t.step(
    "results before a failing statement are printed, then its error",
    async () => {
      const output = await example(port, [
        ...as("postgres"),
        "SELECT 1 AS one; SELECT 1 / 0 AS boom",
      ]);
      refused(output, "ERROR 22012: division by zero");
      assertEquals(output.stdout, " one\n-----\n   1\n(1 row)\n");
    },
  );

  await t.step(
    "COPY FROM STDIN is refused (CopyFail), not waited on",
    async () => {
      const output = await example(port, [
        ...as("postgres"),
        "CREATE TEMP TABLE t (n int); COPY t FROM STDIN",
      ]);
      refused(
        output,
        "ERROR 57014: COPY from stdin failed: this example sends no COPY data",
      );
      assertEquals(output.stdout, "CREATE TABLE\n");
    },
  );

  await t.step(
    "a database that does not exist: the server's error",
    async () => {
      refused(
        await example(port, [
          ...as("postgres", "--database", "nope"),
          "SELECT 1",
        ]),
        'FATAL 3D000: database "nope" does not exist',
      );
    },
  );

  await t.step(
    "cleartext password authentication, from --password",
    async () => {
      printed(
        await example(port, [
          ...as("alice", "--database", "postgres", "--password", "secret"),
          "SELECT current_user AS who",
        ]),
        [" who", "-------", " alice", "(1 row)"],
      );
    },
  );

  await t.step(
    "cleartext password authentication, from PGPASSWORD",
    async () => {
      printed(
        await example(
          port,
          [
            ...as("alice", "--database", "postgres"),
            "SELECT current_user AS who",
          ],
          "secret",
        ),
        [" who", "-------", " alice", "(1 row)"],
      );
    },
  );

  await t.step("a wrong password: the server's error", async () => {
    refused(
      await example(port, [
        ...as("alice", "--database", "postgres", "--password", "wrong"),
        "SELECT 1",
      ]),
      'FATAL 28P01: password authentication failed for user "alice"',
    );
  });

  await t.step(
    "no password when one is asked for: says how to give one",
    async () => {
      refused(
        await example(port, [
          ...as("alice", "--database", "postgres"),
          "SELECT 1",
        ]),
        'The server asks for a password for user "alice": pass --password or set PGPASSWORD',
      );
    },
  );

  await t.step(
    "SCRAM-SHA-256 is refused with a message naming it",
    async () => {
      refused(
        await example(port, [
          ...as("mallory", "--database", "postgres", "--password", "secret"),
          "SELECT 1",
        ]),
        'The server asks for SASL (SCRAM-SHA-256) authentication, which this example does not speak: it speaks "trust" and "password" (cleartext) only',
      );
    },
  );

  await t.step("nothing listening: ECONNREFUSED with a hint", async () => {
    const closed = freeTcpPort();
    const output = await example(closed, [...as("postgres"), "SELECT 1"]);
    refused(output, "is PostgreSQL listening on TCP there?");
  });
});
