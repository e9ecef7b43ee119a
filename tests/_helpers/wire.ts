// Runs the wire tool as a subprocess (`deno run FLAGS cli.ts ARGS` from the
// project root), with the permission flags the README documents; its stdout
// and stderr lines can be awaited with a deadline.

import { ROOT } from "./examples.ts";

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
export class Wire implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly argv: string[];
  stdout = "";
  stderr = "";
  #wake: (() => void) | undefined;
  #done = false;
  readonly #pumps: Promise<void>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  status: Deno.CommandStatus | undefined;

  constructor(
    flags: string[],
    args: string[],
    options: { stdin?: "piped" | "null"; env?: Record<string, string> } = {},
  ) {
    this.argv = ["run", ...flags, "cli.ts", ...args];
    this.child = new Deno.Command(Deno.execPath(), {
      args: this.argv,
      cwd: ROOT,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...options.env },
    }).spawn();
    this.#stdin = options.stdin === "piped"
      ? this.child.stdin.getWriter()
      : undefined;
    const pump = async (
      stream: ReadableStream<Uint8Array>,
      into: "stdout" | "stderr",
    ) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        this[into] += text;
        this.#wake?.();
      }
    };
    this.#pumps = Promise.all([
      pump(this.child.stdout, "stdout"),
      pump(this.child.stderr, "stderr"),
    ]).then(() => {
      this.#done = true;
      this.#wake?.();
    });
    this.child.status.then((s) => this.status = s);
  }

  describe(): string {
    return `deno ${
      this.argv.join(" ")
    }\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /** Waits until stdout or stderr (as `where` says) matches `pattern`. */
  async waitFor(
    pattern: RegExp,
    where: "stdout" | "stderr" = "stderr",
    timeoutMs = 20_000,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this[where].match(pattern);
      if (match) return match;
      const left = deadline - Date.now();
      if (this.#done || left <= 0) {
        throw new Error(
          `${where} never matched ${pattern}\n${this.describe()}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, Math.min(left, 200));
      });
      clearTimeout(timer);
    }
  }

  /** The port in the "listening on HOST:PORT" (or similar) status line. */
  async port(): Promise<number> {
    const match = await this.waitFor(
      /(?:listening on|proxying|recording|receiving files into \S+ on) (?:udp )?\S*:(\d+)/,
    );
    return Number(match[1]);
  }

  async write(text: string | Uint8Array): Promise<void> {
    await this.#stdin!.write(
      typeof text === "string" ? new TextEncoder().encode(text) : text,
    );
  }

  async closeStdin(): Promise<void> {
    await this.#stdin?.close().catch(() => {});
  }

  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.status !== undefined) return;
    try {
      this.child.kill(signal);
    } catch { /* exited */ }
  }

  /** Waits for the exit (at most `timeoutMs`, then kills and throws). */
  async exit(timeoutMs = 20_000): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => {
      timer = setTimeout(() => r("late"), timeoutMs);
    });
    const outcome = await Promise.race([this.child.status, late]);
    clearTimeout(timer);
    if (outcome === "late") {
      this.kill("SIGKILL");
      await this.child.status;
      await this.#pumps;
      throw new Error(
        `wire did not exit in ${timeoutMs} ms\n${this.describe()}`,
      );
    }
    await this.#pumps;
    return outcome.code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    this.kill("SIGKILL");
    await this.child.status;
    await this.#pumps;
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
