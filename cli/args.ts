// The command line: the subcommands, their flags and help texts, and the
// parsing of Deno.args into one of them. Bad arguments are a UsageError
// (exit status 2, with the usage line).

import { parseFraming } from "../mod.ts";
import { parseArgs } from "./_parse_args.ts";

/** The subcommands. */
export const COMMANDS = [
  "connect",
  "listen",
  "proxy",
  "dump",
  "send",
  "receive",
  "record",
  "replay",
] as const;
export type CommandName = typeof COMMANDS[number];

export const USAGE =
  "Usage: wire <connect|listen|proxy|dump|send|receive|record|replay> [options] ARGS";

const PERMISSIONS =
  `Permissions (deno run ... cli.ts; the task "deno task wire" grants the
loopback ones): --allow-net=HOST:PORT for each address; a Unix socket also
--allow-net=unix:PATH --allow-read=PATH --allow-write=PATH; --allow-read=FILE
for --ca, --cert, --key and any file read; --unstable-net for --udp.`;

export const HELP = `wire: a netcat that knows framing

${USAGE}

  connect ADDR            stdin to the peer, the peer to stdout
  listen ADDR             the same, for the first peer that connects
  proxy LISTEN TARGET     forward both ways, log each frame; chaos on demand
  dump [FILE]             decode a capture (or stdin), one line per frame
  send FILE ADDR          send a file (the examples' file-transfer protocol)
  receive --dir DIR ADDR  receive files into DIR
  record LISTEN TARGET    proxy, writing each frame as a JSON line to stdout
  replay FILE TARGET      send a recording's client frames, diff the answers

ADDR is HOST:PORT, [IPV6]:PORT, PORT (127.0.0.1) or unix:PATH.
Common options:
  --framing SPEC   raw (default), lines, crlf, length, length:2, length:4:le,
                   varint, netstring, message, message:le, field:1:4:-4
  --format F       text (default), hex, json or base64: how frames print
                   (and how stdin's lines are read when framed)
  --tls            connect over TLS; --ca FILE trusts a CA; --server-name N
  --cert FILE --key FILE   listen over TLS
  --path PATH      a Unix socket (instead of ADDR)
  --udp            UDP datagrams (connect, listen)
  --help           this help; "wire COMMAND --help" for a command's

Exit status: 0 done (Ctrl-C too), 1 a network or protocol error (its message
and code on stderr), 2 bad arguments.

${PERMISSIONS}`;

const COMMAND_HELP: Record<CommandName, string> = {
  connect: `Usage: wire connect [options] ADDR

Connects to ADDR; what stdin gives goes to the peer, what the peer sends goes
to stdout. At the end of stdin the sending side is closed (the peer sees end
of stream) and wire waits for the peer to finish. With --framing, each line
of stdin is one frame (read as --format says: text, hex, base64, or JSON: a
string, or {"header":{...},"body":"..."} for message), and each frame
received prints on its own line.

  --framing SPEC  --format F  --tls  --ca FILE  --server-name NAME
  --path PATH     --udp       --timeout MS (connect; default 10000)
  --wait MS       UDP: after stdin ends, wait this long for replies (500)

Needs --allow-net=HOST:PORT (and --allow-read=FILE for --ca).`,
  listen: `Usage: wire listen [options] ADDR

Listens on ADDR (port 0: the OS picks; the address is printed on stderr),
takes the first connection and works as connect does. Over --udp, prints
each datagram and sends stdin's lines to the last sender.

  --framing SPEC  --format F  --cert FILE --key FILE (TLS)  --path PATH  --udp

Needs --allow-net=HOST:PORT (and --allow-read for --cert and --key).`,
  proxy: `Usage: wire proxy [options] LISTEN TARGET

Listens on LISTEN; for each client, connects to TARGET and forwards both
ways, byte for byte, logging each frame to stdout: time, connection,
direction (c>s or s>c), length and a preview.

  --framing SPEC    what a frame is in the log (default raw: each read)
  --split N         forward in writes of at most N bytes
  --delay MS        wait MS before each write
  --reset-after N   after N frames (both directions) close both sides at once
  --seed S          with --split/--delay: random sizes in 1..N and delays in
                    0..MS from this seed, the same each run
  --quiet           no log
  --cert FILE --key FILE   accept TLS; --tls --ca FILE   connect over TLS

Needs --allow-net for both addresses.`,
  dump: `Usage: wire dump --framing SPEC [options] [FILE]

Decodes FILE (or stdin) and prints each frame: its offset, its length on the
wire, its header (the bytes before the payload, or message's JSON), its
payload's length and a preview. Leftover bytes at the end are an error.

  --framing SPEC (required)  --format F (text: a preview; hex, base64: the
  payload; json: one JSON object per frame)

Needs --allow-read=FILE (none for stdin).`,
  send: `Usage: wire send [options] FILE ADDR

Sends FILE to a receiver (wire receive, or examples/file_transfer.ts): a
message() header {name, size, sha256}, the body, and the receiver's answer.
--protocol tutorial speaks the Python tutorials' upload instead. A progress
bar (bytes, rate, time left) shows when stdout is a terminal.

  --protocol module|tutorial  --tls  --ca FILE  --path PATH  --timeout MS

Needs --allow-read=FILE and --allow-net=HOST:PORT.`,
  receive: `Usage: wire receive --dir DIR [options] ADDR

Receives files into DIR (created if missing), in either protocol, one per
connection, until Ctrl-C (or after one with --once). A file is checked (size,
sha256) before it appears under its name.

  --dir DIR (required)  --overwrite  --once  --cert FILE --key FILE  --path PATH

Needs --allow-read=DIR --allow-write=DIR and --allow-net=HOST:PORT.`,
  record: `Usage: wire record [options] LISTEN TARGET

A proxy that writes each frame, both ways, as one JSON line to stdout:
{"time","conn","dir":"c>s"|"s>c","length","text"|"base64"} after a first line
naming the framing. Stops at Ctrl-C, or after one connection with --once.

  --framing SPEC  --once  --cert FILE --key FILE  --tls  --ca FILE

Needs --allow-net for both addresses.`,
  replay: `Usage: wire replay [options] FILE TARGET

Connects to TARGET once per recorded connection, sends the recorded client
frames in order and compares each answer with the recorded one, printing
where they differ. Exit status 1 when any does. FILE "-" is stdin.

  --framing SPEC (default: the recording's)  --timeout MS (per answer; 5000)
  --tls  --ca FILE  --path PATH

Needs --allow-read=FILE and --allow-net=HOST:PORT.`,
};

/** Bad arguments: printed with the usage line, exit status 2. */
export class UsageError extends Error {
  /** The usage text to print after the message. */
  readonly usage: string;

  constructor(message: string, usage: string = USAGE) {
    super(message);
    this.name = "UsageError";
    this.usage = usage;
  }
}

/** A parsed command line. */
export interface CommandLine {
  command: CommandName;
  /** The arguments after the subcommand. */
  args: string[];
  /** The help text to print instead, if --help was given. */
  help?: string;
  framing: string;
  format: "text" | "hex" | "json" | "base64";
  tls: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
  path?: string;
  udp: boolean;
  timeout?: number;
  wait?: number;
  split?: number;
  delay?: number;
  resetAfter?: number;
  seed?: number;
  quiet: boolean;
  protocol: "module" | "tutorial";
  dir?: string;
  overwrite: boolean;
  once: boolean;
  /** Whether --framing was given (replay takes the recording's otherwise). */
  framingGiven: boolean;
}

const STRINGS = [
  "framing",
  "format",
  "ca",
  "cert",
  "key",
  "server-name",
  "path",
  "timeout",
  "wait",
  "split",
  "delay",
  "reset-after",
  "seed",
  "protocol",
  "dir",
];
const BOOLEANS = ["help", "tls", "udp", "quiet", "overwrite", "once"];

/** The flags each command takes besides --help. */
const FLAGS: Record<CommandName, string[]> = {
  connect: [
    "framing",
    "format",
    "tls",
    "ca",
    "server-name",
    "path",
    "udp",
    "timeout",
    "wait",
  ],
  listen: ["framing", "format", "cert", "key", "path", "udp"],
  proxy: [
    "framing",
    "split",
    "delay",
    "reset-after",
    "seed",
    "quiet",
    "cert",
    "key",
    "tls",
    "ca",
    "server-name",
  ],
  dump: ["framing", "format"],
  send: ["protocol", "tls", "ca", "server-name", "path", "timeout"],
  receive: ["dir", "overwrite", "once", "cert", "key", "path"],
  record: ["framing", "once", "cert", "key", "tls", "ca", "server-name"],
  replay: ["framing", "timeout", "tls", "ca", "server-name", "path"],
};

/** How many arguments each command takes, without and with --path. */
const ARITY: Record<CommandName, [number, number]> = {
  connect: [1, 0],
  listen: [1, 0],
  proxy: [2, 2],
  dump: [0, 0], // 0 or 1: checked below
  send: [2, 1],
  receive: [1, 0],
  record: [2, 2],
  replay: [2, 1],
};

function number(
  flags: Record<string, unknown>,
  name: string,
  min: number,
  usage: string,
): number | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  if (typeof text !== "string" || !/^\d+$/.test(text) || Number(text) < min) {
    throw new UsageError(
      `--${name} must be a whole number from ${min}, got ${String(text)}`,
      usage,
    );
  }
  return Number(text);
}

/**
 * Parses the command line: a subcommand, its flags, its arguments.
 *
 * @throws {UsageError} Unknown subcommand or flag, a bad value, or the wrong
 * number of arguments.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h") {
    if (first === undefined) throw new UsageError("say what to do");
    return { ...defaults("connect"), help: HELP };
  }
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(
      first.startsWith("-")
        ? `the subcommand comes first, got ${first}`
        : `unknown subcommand ${first}`,
    );
  }
  const command = first as CommandName;
  const usage = COMMAND_HELP[command].split("\n")[0];
  const flags = parseArgs(argv.slice(1), {
    string: [...STRINGS, "_"],
    boolean: BOOLEANS,
    alias: { h: "help" },
    unknown: (arg) => {
      if (!arg.startsWith("-") || arg === "-") return true;
      throw new UsageError(`unknown option ${arg}`, usage);
    },
  });
  if (flags.help) {
    return { ...defaults(command), help: COMMAND_HELP[command] };
  }
  for (const name of [...STRINGS, ...BOOLEANS]) {
    if (name === "help") continue;
    const given = BOOLEANS.includes(name)
      ? flags[name] === true
      : flags[name] !== undefined;
    if (given && !FLAGS[command].includes(name)) {
      throw new UsageError(`${command} takes no --${name}`, usage);
    }
    if (Array.isArray(flags[name])) {
      throw new UsageError(`--${name} given twice`, usage);
    }
  }
  const string = (name: string) => flags[name] as string | undefined;
  const line: CommandLine = {
    ...defaults(command),
    args: flags._.map(String),
    framing: string("framing") ?? "raw",
    framingGiven: flags.framing !== undefined,
    tls: flags.tls === true,
    ca: string("ca"),
    cert: string("cert"),
    key: string("key"),
    serverName: string("server-name"),
    path: string("path"),
    udp: flags.udp === true,
    quiet: flags.quiet === true,
    overwrite: flags.overwrite === true,
    once: flags.once === true,
    dir: string("dir"),
    timeout: number(flags, "timeout", 1, usage),
    wait: number(flags, "wait", 0, usage),
    split: number(flags, "split", 1, usage),
    delay: number(flags, "delay", 0, usage),
    resetAfter: number(flags, "reset-after", 1, usage),
    seed: number(flags, "seed", 0, usage),
  };
  const format = string("format") ?? "text";
  if (!["text", "hex", "json", "base64"].includes(format)) {
    throw new UsageError(
      `--format is text, hex, json or base64, got ${format}`,
      usage,
    );
  }
  line.format = format as CommandLine["format"];
  const protocol = string("protocol") ?? "module";
  if (protocol !== "module" && protocol !== "tutorial") {
    throw new UsageError(
      `--protocol is module or tutorial, got ${protocol}`,
      usage,
    );
  }
  line.protocol = protocol;
  try {
    parseFraming(line.framing);
  } catch (error) {
    throw new UsageError(`--framing: ${(error as Error).message}`, usage);
  }
  if (command === "dump" && !line.framingGiven) {
    throw new UsageError("dump needs --framing SPEC", usage);
  }
  if (command === "receive" && !line.dir) {
    throw new UsageError("receive needs --dir DIR", usage);
  }
  if (line.udp && line.framing !== "raw") {
    throw new UsageError(
      "over --udp each datagram is one frame: --framing is raw",
      usage,
    );
  }
  if (line.udp && (line.path || line.tls || line.cert)) {
    throw new UsageError("--udp goes with neither --path nor TLS", usage);
  }
  if ((line.cert === undefined) !== (line.key === undefined)) {
    throw new UsageError("--cert and --key go together", usage);
  }
  const [plain, withPath] = ARITY[command];
  const wanted = line.path === undefined ? plain : withPath;
  const count = line.args.length;
  if (command === "dump" ? count > 1 : count !== wanted) {
    throw new UsageError(
      count > wanted
        ? `unexpected argument ${line.args[wanted]}`
        : `${command} needs ${
          COMMAND_HELP[command].split("\n")[0].replace(
            /^Usage: wire \S+ (\[options\] )?/,
            "",
          )
        }`,
      usage,
    );
  }
  return line;
}

function defaults(command: CommandName): CommandLine {
  return {
    command,
    args: [],
    framing: "raw",
    framingGiven: false,
    format: "text",
    tls: false,
    udp: false,
    quiet: false,
    protocol: "module",
    overwrite: false,
    once: false,
  };
}
