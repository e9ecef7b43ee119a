// Helpers for the tests in tests/examples/: read the `// Run:` lines of an
// example's header, pick free ports, and run an example as a child process
// whose output lines can be awaited with a deadline.

/** The project root: examples run from here, so deno.json applies. */
export const ROOT: string = new URL("../..", import.meta.url).pathname;

/** One `// Run: deno run FLAGS examples/NAME.ts ARGS` line of a header. */
export interface RunLine {
  /** The whole command after `// Run: `. */
  command: string;
  /** The flags between `deno run` and the script. */
  flags: string[];
  /** The script, as written (`examples/echo.ts`). */
  script: string;
  /** The program's arguments after the script. */
  args: string[];
}

/**
 * The `// Run:` lines of an example's opening comment, in order. Only the
 * leading block of `//` comments counts: the header is what users read.
 */
export async function runLines(script: string): Promise<RunLine[]> {
  const text = await Deno.readTextFile(`${ROOT}${script}`);
  const header: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("//")) break;
    header.push(line);
  }
  const result: RunLine[] = [];
  for (const line of header) {
    const match = /^\/\/ Run: (.*)$/.exec(line);
    if (!match) continue;
    const command = match[1].trim();
    const words = command.split(/\s+/);
    if (words[0] !== "deno" || words[1] !== "run") {
      throw new Error(`${script}: a Run line must start "deno run": ${line}`);
    }
    const at = words.indexOf(script);
    if (at < 2) {
      throw new Error(`${script}: a Run line must name ${script}: ${line}`);
    }
    result.push({
      command,
      flags: words.slice(2, at),
      script,
      args: words.slice(at + 1),
    });
  }
  return result;
}

/**
 * `line` with its placeholders replaced: `9000` in addresses becomes `port`
 * (`127.0.0.1:9000` to `127.0.0.1:PORT`), and each key of `paths` (`./inbox`)
 * its value. The headers use port 9000 and relative paths for this.
 */
export function substitute(
  words: string[],
  port: number | undefined,
  paths: Record<string, string> = {},
): string[] {
  return words.map((word) => {
    let out = word;
    if (port !== undefined) out = out.replaceAll(":9000", `:${port}`);
    for (const [from, to] of Object.entries(paths)) {
      out = out.replaceAll(from, to);
    }
    return out;
  });
}

/** A TCP port that was free a moment ago (listen on 0, close, reuse the number). */
export function freeTcpPort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** A UDP port that was free a moment ago. */
export function freeUdpPort(): number {
  const socket = Deno.listenDatagram({
    hostname: "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  try {
    return (socket.addr as Deno.NetAddr).port;
  } finally {
    socket.close();
  }
}

/** A child `deno run` of an example; its stdout lines can be awaited. */
export class ExampleProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  /** Stderr so far. */
  stderr = "";
  readonly #pumps: Promise<void>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #wake: (() => void) | undefined;
  #stdoutDone = false;
  #status: Deno.CommandStatus | undefined;
  readonly argv: string[];

  /**
   * Starts `deno run FLAGS SCRIPT ARGS` in the project root.
   *
   * @param stdin `"piped"` to write to it, else it is closed (`"null"`).
   */
  constructor(
    flags: string[],
    script: string,
    args: string[],
    options: { stdin?: "piped" | "null" } = {},
  ) {
    this.argv = ["run", ...flags, script, ...args];
    this.child = new Deno.Command(Deno.execPath(), {
      args: this.argv,
      cwd: ROOT,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.#stdin = options.stdin === "piped"
      ? this.child.stdin.getWriter()
      : undefined;
    this.#pumps = Promise.all([this.#pumpStdout(), this.#pumpStderr()])
      .then(() => {});
    this.child.status.then((status) => this.#status = status);
  }

  /** The child's process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** The exit status, once the child has exited. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  async #pumpStdout(): Promise<void> {
    let pending = "";
    try {
      for await (
        const text of this.child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        const parts = (pending + text).split("\n");
        pending = parts.pop()!;
        this.lines.push(...parts);
        this.#wake?.();
      }
    } finally {
      if (pending !== "") this.lines.push(pending);
      this.#stdoutDone = true;
      this.#wake?.();
    }
  }

  async #pumpStderr(): Promise<void> {
    for await (
      const text of this.child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      this.stderr += text;
    }
  }

  /** What the child printed, for assertion messages. */
  describe(): string {
    return `deno ${this.argv.join(" ")}\n--- stdout ---\n${
      this.lines.join("\n")
    }\n--- stderr ---\n${this.stderr}`;
  }

  /**
   * Waits until a stdout line (from line `from` on) matches `pattern`.
   *
   * @returns The match.
   * @throws Error when the deadline passes or stdout ends first.
   */
  async waitFor(
    pattern: RegExp,
    timeoutMs = 15_000,
    from = 0,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = from;;) {
      for (; seen < this.lines.length; seen++) {
        const match = this.lines[seen].match(pattern);
        if (match) return match;
      }
      if (this.#stdoutDone) {
        throw new Error(
          `stdout ended before a line matched ${pattern}\n${this.describe()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no line matched ${pattern} within ${timeoutMs} ms\n${this.describe()}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** Writes `text` to the child's stdin. */
  async write(text: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(text));
  }

  /** Closes the child's stdin (end of input). */
  async closeStdin(): Promise<void> {
    await this.#stdin?.close().catch(() => {});
  }

  /** Sends `signal` to the child, if it is still running. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#status !== undefined) return;
    try {
      this.child.kill(signal);
    } catch {
      // It exited in the meantime.
    }
  }

  /**
   * Waits for the child to exit and its output to be read, at most
   * `timeoutMs`; then kills it and throws.
   */
  async exit(timeoutMs = 15_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    const outcome = await Promise.race([this.child.status, late]);
    clearTimeout(timer);
    if (outcome === "late") {
      this.kill("SIGKILL");
      await this.child.status;
      await this.#pumps;
      throw new Error(
        `the child did not exit within ${timeoutMs} ms\n${this.describe()}`,
      );
    }
    await this.#pumps;
    return outcome;
  }

  /** Kills the child if it still runs, and waits for everything to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    this.kill("SIGKILL");
    await this.child.status;
    await this.#pumps;
  }
}

/**
 * A memory field of /proc/PID/status (VmRSS, VmHWM) of a live process, in
 * bytes. Read by `cat`: Deno asks for --allow-all to read /proc/PID itself,
 * and --allow-run is granted. Fails where /proc is missing (the suite runs on
 * Linux, as CI does).
 */
export async function memoryOf(
  pid: number,
  field: "VmRSS" | "VmHWM",
): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stderr: "null",
  }).output();
  const status = new TextDecoder().decode(stdout);
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Peak resident memory of a live process, in bytes. */
export function peakRss(pid: number): Promise<number> {
  return memoryOf(pid, "VmHWM");
}
