// Runs the wire tool as a subprocess (`deno run FLAGS cli.ts ARGS` from the
// project root), with the permission flags the README documents; its stdout
// and stderr lines can be awaited with a deadline.

import { type ChildOptions, DenoChild } from "./child.ts";

/** The flags for loopback TCP (what `deno task wire` grants). */
export const NET = ["--allow-net=127.0.0.1,[::1],localhost"];

/** The flags a Unix socket at `path` needs. */
export function unixFlags(path: string): string[] {
  return [
    `--allow-net=unix:${path}`,
    `--allow-read=${path}`,
    `--allow-write=${path}`,
  ];
}

/** A running `wire`; dispose it to kill it and wait for it. */
export class Wire extends DenoChild {
  constructor(flags: string[], args: string[], options: ChildOptions = {}) {
    super(flags, "cli.ts", args, options);
  }

  /** Waits until stdout or stderr (as `where` says) matches `pattern`. */
  waitFor(
    pattern: RegExp,
    where: "stdout" | "stderr" = "stderr",
    timeoutMs = 20_000,
  ): Promise<RegExpMatchArray> {
    return this.until(
      () => this[where].match(pattern) ?? undefined,
      timeoutMs,
      `${where} matching ${pattern}`,
    );
  }

  /** The port in the "listening on HOST:PORT" (or similar) status line. */
  async port(): Promise<number> {
    const match = await this.waitFor(
      /(?:listening on|proxying|recording|receiving files into \S+ on) (?:udp )?\S*:(\d+)/,
    );
    return Number(match[1]);
  }

  /** Waits for the exit (at most `timeoutMs`, then kills and throws): its code. */
  async exit(timeoutMs = 20_000): Promise<number> {
    return (await this.exited(timeoutMs)).code;
  }
}

/** Runs wire to completion with `input` on stdin; its exit code and output. */
export async function wire(
  flags: string[],
  args: string[],
  input?: string | Uint8Array,
): Promise<{ code: number; stdout: string; stderr: string }> {
  await using run = new Wire(flags, args, {
    stdin: input === undefined ? "null" : "piped",
  });
  if (input !== undefined) {
    await run.write(input);
    await run.closeStdin();
  }
  const code = await run.exit();
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** Starts `nc ARGS` (netcat-openbsd); fails with a hint when it is missing. */
export function netcat(
  args: string[],
  stdin: "piped" | "null" = "piped",
): Deno.ChildProcess {
  try {
    return new Deno.Command("nc", {
      args,
      stdin,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "nc is not installed: apt-get install netcat-openbsd (.ci/run does); " +
          "these tests are never skipped",
        { cause: error },
      );
    }
    throw error;
  }
}
