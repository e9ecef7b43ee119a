// The command-line plumbing every example shares: the --host, --port and
// --help flags, usage errors (exit 2), expected errors (exit 1), Ctrl-C and
// the lines of stdin.
// Private to examples/ (the leading "_"); it needs no permissions. Each
// example keeps what is its own: its usage text, its modes and its extra
// checks.

import { parseArgs } from "@std/cli/parse-args";
import { SocketError } from "../mod.ts";

/** Prints `message` and then `usage` to stderr, and exits with status 2. */
export function usageError(usage: string, message: string): never {
  console.error(`error: ${message}\n\n${usage}`);
  Deno.exit(2);
}

/** What {@linkcode parseCli} takes besides --host, --port and --help. */
export interface CliOptions<S extends string, B extends string> {
  /** More string flags with their defaults: `{ name: "" }` for `--name NAME`. */
  string?: Record<S, string>;
  /** More boolean flags: `["overwrite"]` for `--overwrite`. */
  boolean?: readonly B[];
  /**
   * The lowest port accepted: 0 (the OS picks a free one) for a program that
   * listens, 1 for one that connects. A program that does either passes a
   * function of its mode (the first argument). Default 0.
   */
  minPort?: number | ((mode: string | undefined) => number);
  /** How many arguments may follow; more is an error. Default: any number. */
  maxArgs?: number;
  /** The port when --port is not given. Default 9000. */
  defaultPort?: number;
}

/** The command line: the flags, the port as a number, the arguments in `_`. */
export type CliArgs<S extends string, B extends string> =
  & { host: string; port: number; _: string[] }
  & Record<S, string>
  & Record<B, boolean>;

/**
 * Parses `Deno.args` with `parseArgs`: `--host` (default 127.0.0.1), `--port`
 * (default 9000, or `options.defaultPort`) and the extra flags of `options`.
 * `--help` prints `usage` and exits 0; an unknown option, too many arguments,
 * or a bad port is a {@linkcode usageError}, checked in that order.
 */
export function parseCli<S extends string = never, B extends string = never>(
  usage: string,
  options: CliOptions<S, B> = {},
): CliArgs<S, B> {
  const extra: Record<string, string> = options.string ?? {};
  // parseArgs comes untyped: this says what the options below make of it.
  const args: {
    host: string;
    port: string;
    help: boolean;
    _: string[];
    [flag: string]: string | boolean | string[];
  } = parseArgs(Deno.args, {
    string: ["host", "port", ...Object.keys(extra), "_"], // "_": "007" stays a string
    boolean: ["help", ...options.boolean ?? []],
    default: {
      host: "127.0.0.1",
      port: String(options.defaultPort ?? 9000),
      ...extra,
    },
    // Called for arguments too: keep those (no "-"), refuse unknown options.
    unknown: (arg: string) =>
      !arg.startsWith("-") || usageError(usage, `unknown option ${arg}`),
  });
  if (args.help) {
    console.log(usage);
    Deno.exit(0);
  }
  const { maxArgs = Infinity, minPort = 0 } = options;
  if (args._.length > maxArgs) {
    usageError(usage, `unexpected argument ${args._[maxArgs]}`);
  }
  const min = typeof minPort === "function" ? minPort(args._[0]) : minPort;
  // Digits only: Number() alone would take "", "0x10" and "1e3".
  const port = Number(args.port);
  if (!/^\d+$/.test(args.port) || port < min || port > 65535) {
    usageError(
      usage,
      `--port must be a number from ${min} to 65535, got ${args.port}`,
    );
  }
  return { ...args, port } as CliArgs<S, B>;
}

/** An error class, as listed in `expected` for {@linkcode fail}. */
// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

/**
 * Ends the program on an error it expects: prints `error: MESSAGE` to stderr,
 * followed by the hint for a {@linkcode SocketError}'s code if `hints` has
 * one, and exits with status 1. Any other error is a bug: it is thrown again,
 * to crash with its stack trace.
 */
export function fail(
  error: unknown,
  options: {
    /** The error classes to report; default `[SocketError]`. */
    expected?: readonly ErrorClass[];
    /** Text to append, by `SocketError` code: `{ ECONNREFUSED: " (...)" }`. */
    hints?: Record<string, string>;
  } = {},
): never {
  const { expected = [SocketError], hints = {} } = options;
  if (!expected.some((type) => error instanceof type)) throw error;
  const hint = error instanceof SocketError ? hints[error.code] ?? "" : "";
  console.error(`error: ${(error as Error).message}${hint}`);
  Deno.exit(1);
}

/**
 * On the first Ctrl-C (SIGINT), prints "shutting down", calls
 * `server.shutdown()`, and prints "stopped" once it has finished. A second
 * Ctrl-C gets the default behaviour: exit at once.
 */
export function stopOnSigint(server: { shutdown(): Promise<unknown> }): void {
  const stop = () => {
    Deno.removeSignalListener("SIGINT", stop);
    console.log("shutting down");
    server.shutdown().then(() => console.log("stopped"));
  };
  Deno.addSignalListener("SIGINT", stop);
}

/** The lines of a byte stream (without their "\n" or "\r\n"). */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + text).split("\n");
    pending = lines.pop()!;
    for (const line of lines) yield line.replace(/\r$/, "");
  }
  if (pending !== "") yield pending.replace(/\r$/, "");
}
