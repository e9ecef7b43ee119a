// One way to run a Deno program of this project as a child process: `deno run
// FLAGS SCRIPT ARGS` from the project root, its stdout and stderr kept as
// they arrive, stdin piped or closed, an exit with a deadline, and disposal
// that kills it and waits. Examples (examples.ts) and the wire tool (wire.ts)
// add how their output is awaited.

/** The project root: programs run from here, so deno.json applies. */
export const ROOT: string = new URL("../..", import.meta.url).pathname;

/** How a {@linkcode DenoChild} starts. */
export interface ChildOptions {
  /** `"piped"` to write to it; else it is closed (`"null"`). */
  stdin?: "piped" | "null";
  /** Variables added to the child's environment. */
  env?: Record<string, string>;
}

/** A running `deno run`; dispose it to kill it and wait for it. */
export class DenoChild implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly argv: string[];
  /** Stdout so far. */
  stdout = "";
  /** Stderr so far. */
  stderr = "";
  #stdoutDone = false;
  #outputDone = false;
  #status: Deno.CommandStatus | undefined;
  #wake: (() => void) | undefined;
  readonly #pumps: Promise<void>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;

  /** Starts `deno run FLAGS SCRIPT ARGS` in the project root. */
  constructor(
    flags: string[],
    script: string,
    args: string[],
    options: ChildOptions = {},
  ) {
    this.argv = ["run", ...flags, script, ...args];
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
      try {
        for await (const text of stream.pipeThrough(new TextDecoderStream())) {
          this[into] += text;
          if (into === "stdout") this.onStdout(text);
          this.#wake?.();
        }
      } finally {
        if (into === "stdout") {
          this.#stdoutDone = true;
          this.onStdoutEnd();
        }
        this.#wake?.();
      }
    };
    this.#pumps = Promise.all([
      pump(this.child.stdout, "stdout"),
      pump(this.child.stderr, "stderr"),
    ]).then(() => {
      this.#outputDone = true;
      this.#wake?.();
    });
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

  /** Called with each piece of stdout as it arrives. */
  protected onStdout(_text: string): void {}

  /** Called once stdout has ended. */
  protected onStdoutEnd(): void {}

  /** What the child printed, for assertion messages. */
  describe(): string {
    return `deno ${
      this.argv.join(" ")
    }\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /**
   * Waits until `find` returns something, checking again as output arrives.
   *
   * @param what What is awaited, for the error.
   * @param onStdoutOnly Whether the end of stdout alone ends the wait.
   * @throws Error when the deadline passes or the output ends first.
   */
  protected async until<T>(
    find: () => T | undefined,
    timeoutMs: number,
    what: string,
    onStdoutOnly = false,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (onStdoutOnly ? this.#stdoutDone : this.#outputDone) {
        throw new Error(`the output ended before ${what}\n${this.describe()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no ${what} within ${timeoutMs} ms\n${this.describe()}`,
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
  async write(text: string | Uint8Array): Promise<void> {
    await this.#stdin!.write(
      typeof text === "string" ? new TextEncoder().encode(text) : text,
    );
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
  protected async exited(timeoutMs: number): Promise<Deno.CommandStatus> {
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
