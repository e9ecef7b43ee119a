// The command line itself: --help for the tool and each subcommand, and bad
// arguments (exit 2 with the usage line).

import { assertEquals, assertStringIncludes } from "../_helpers/assert.ts";
import { wire } from "../_helpers/wire.ts";

const COMMANDS = [
  "connect",
  "listen",
  "proxy",
  "dump",
  "send",
  "receive",
  "record",
  "replay",
];

Deno.test("wire --help lists every subcommand; each has its own --help", async () => {
  const top = await wire([], ["--help"]);
  assertEquals(top.code, 0, top.stderr);
  for (const command of COMMANDS) assertStringIncludes(top.stdout, command);
  assertStringIncludes(top.stdout, "--allow-net");
  for (const command of COMMANDS) {
    const help = await wire([], [command, "--help"]);
    assertEquals(help.code, 0, help.stderr);
    assertStringIncludes(help.stdout, `Usage: wire ${command}`);
    assertStringIncludes(help.stdout, "Needs --allow-");
  }
});

Deno.test("wire: bad arguments exit 2 with the usage line", async () => {
  const cases: [string[], string][] = [
    [[], "say what to do"],
    [["teleport"], "unknown subcommand teleport"],
    [["--tls"], "the subcommand comes first"],
    [["connect"], "connect needs ADDR"],
    [["connect", "127.0.0.1:9", "extra"], "unexpected argument extra"],
    [["connect", "--bogus", "127.0.0.1:9"], "unknown option --bogus"],
    [["connect", "nowhere"], "an address is HOST:PORT"],
    [["connect", "127.0.0.1:0"], "a port is a number from 1 to 65535"],
    [["listen", "127.0.0.1:70000"], "a port is a number from 0 to 65535"],
    [["connect", "--framing", "json", "127.0.0.1:9"], 'unknown framing "json"'],
    [["connect", "--format", "octal", "127.0.0.1:9"], "--format is text, hex"],
    [["connect", "--split", "2", "127.0.0.1:9"], "connect takes no --split"],
    [["proxy", "--split", "0", "1", "127.0.0.1:9"], "--split must be a whole"],
    [["proxy", "127.0.0.1:1"], "proxy needs LISTEN TARGET"],
    [["dump", "x"], "dump needs --framing SPEC"],
    [["receive", "127.0.0.1:0"], "receive needs --dir DIR"],
    [["send", "--protocol", "ftp", "f", "127.0.0.1:9"], "--protocol is module"],
    [["listen", "--cert", "c", "127.0.0.1:0"], "--cert and --key go together"],
    [
      ["connect", "--udp", "--framing", "lines", "127.0.0.1:9"],
      "--framing is raw",
    ],
  ];
  for (const [args, message] of cases) {
    const run = await wire([], args);
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assertStringIncludes(run.stderr, message);
    assertStringIncludes(run.stderr, "Usage: wire");
    assertEquals(run.stdout, "");
  }
});

Deno.test("wire: a framing spec error lists what is accepted", async () => {
  const run = await wire([], ["dump", "--framing", "length:5"]);
  assertEquals(run.code, 2);
  assertStringIncludes(run.stderr, "accepted: raw, lines, crlf, length");
});
