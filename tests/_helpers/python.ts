// The one way tests run Python 3: a script to completion (its output), or a
// long-lived peer read line by line. Python peers are written the way the
// tutorials write them (plain `socket`, `struct`, `ssl`).
//
// One rule when python3 is missing: the test that needs it FAILS with a
// message saying so. It is never skipped: a skipped interop test is a
// silently untested promise. .ci/run installs python3 when it is missing.

const PYTHON = "python3";

/** How long `python()` and `pythonOutput()` let a script run, by default. */
export const PYTHON_TIMEOUT_MS = 60_000;

/** The error a test fails with when python3 cannot be started. */
function missing(cause: unknown): Error {
  return new Error(
    `${PYTHON} is not installed (or not on PATH), and this test needs it to ` +
      `run a Python peer. Install it (apt-get install python3, brew install ` +
      `python); .ci/run does this in CI. Python tests are never skipped.`,
    { cause },
  );
}

function spawn(
  args: string[],
  options: Deno.CommandOptions,
): Deno.ChildProcess {
  try {
    return new Deno.Command(PYTHON, { ...options, args }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw missing(error);
    throw error;
  }
}

/** Options of `pythonOutput` and `python`. */
export interface PythonOptions {
  /**
   * Kill the script and fail after this many milliseconds.
   *
   * @default {60000}
   */
  timeoutMs?: number;
}

/**
 * Runs `code` with `python3 -c code ...args` to completion and returns its
 * exit status and everything it wrote. Throws at once if python3 is missing;
 * rejects if the script runs longer than `timeoutMs`.
 *
 * @param code The script.
 * @param args Its `sys.argv[1:]`.
 * @returns What `Deno.Command.output()` returns.
 *
 * @example Basic usage
 * ```ts
 * import { pythonOutput } from "./python.ts";
 * import { assert, assertEquals } from "./assert.ts";
 *
 * const output = await pythonOutput("import sys; print(sys.argv[1])", "hi");
 * assert(output.success);
 * assertEquals(new TextDecoder().decode(output.stdout), "hi\n");
 * ```
 */
export function pythonOutput(
  code: string,
  ...args: (string | PythonOptions)[]
): Promise<Deno.CommandOutput> {
  const { argv, timeoutMs } = split(args);
  // Spawned now, so a missing python3 throws here, before the test waits on
  // a peer that never started.
  const child = spawn(["-c", code, ...argv], {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  return collect(child, timeoutMs);
}

async function collect(
  child: Deno.ChildProcess,
  timeoutMs: number,
): Promise<Deno.CommandOutput> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    const output = await child.output();
    if (expired) {
      throw new Error(
        `${PYTHON} was still running after ${timeoutMs} ms and was killed; ` +
          `it wrote: ${new TextDecoder().decode(output.stderr)}`,
      );
    }
    return output;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `code` with `python3 -c code ...args` and returns what it printed,
 * trimmed. Throws with its stderr if it exits with a non-zero status.
 *
 * @param code The script.
 * @param args Its `sys.argv[1:]`, then optionally options.
 * @returns Its stdout without leading and trailing white space.
 *
 * @example Basic usage
 * ```ts
 * import { python } from "./python.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * const hex = await python("import struct; print(struct.pack('!I', 3).hex())");
 * assertEquals(hex, "00000003");
 * ```
 */
export async function python(
  code: string,
  ...args: (string | PythonOptions)[]
): Promise<string> {
  const { code: status, stdout, stderr } = await pythonOutput(code, ...args);
  const decoder = new TextDecoder();
  if (status !== 0) {
    throw new Error(
      `${PYTHON} failed (exit ${status}): ${decoder.decode(stderr)}`,
    );
  }
  return decoder.decode(stdout).trim();
}

function split(
  args: (string | PythonOptions)[],
): { argv: string[]; timeoutMs: number } {
  const argv: string[] = [];
  let timeoutMs = PYTHON_TIMEOUT_MS;
  for (const arg of args) {
    if (typeof arg === "string") argv.push(arg);
    else timeoutMs = arg.timeoutMs ?? timeoutMs;
  }
  return { argv, timeoutMs };
}

/** What a Python peer did: its exit code and all it wrote. */
export interface PythonResult {
  /** The exit code (128 + n when killed by signal n). */
  code: number;
  /** Everything it wrote to stdout, lines already read included. */
  stdout: string;
  /** Everything it wrote to stderr. */
  stderr: string;
}

/**
 * A Python 3 program running beside the test (`runPython`), its stdout read
 * line by line. `await using` it, or call `finish()`, so the process is
 * reaped before the test ends.
 */
export interface PythonPeer extends AsyncDisposable {
  /** The next line it printed (without the newline); fails if it exits first. */
  readLine(): Promise<string>;
  /** Waits for it to exit; its exit code, and all it wrote to stdout/stderr. */
  finish(): Promise<PythonResult>;
  /** Sends it `signal` (default SIGKILL); does nothing once it has exited. */
  kill(signal?: Deno.Signal): void;
  /** Writes `text` to its stdin (started with `{ stdin: "piped" }`). */
  write(text: string): Promise<void>;
  /** Closes its stdin: `input()` then raises EOFError. */
  closeStdin(): Promise<void>;
  /** Its process id. */
  readonly pid: number;
}

/** Options of `runPython`, after the script's arguments. */
export interface PythonPeerOptions {
  /**
   * `"piped"` to feed its stdin with `write()` (as a user types into
   * `input()`).
   * @default {"null"}
   */
  stdin?: "piped" | "null";
  /** Its working directory (where a tutorial's server writes its files). */
  cwd?: string;
}

/**
 * Starts `python3 -u -c code ...args` (unbuffered, stdin closed unless
 * piped) as a peer the test talks to over sockets; fails at once if python3
 * is missing. Disposing it kills it if it still runs and waits for it to
 * exit.
 *
 * @param code The script.
 * @param args Its `sys.argv[1:]`, then optionally options.
 * @returns The running peer.
 *
 * @example Basic usage
 * ```ts
 * import { runPython } from "./python.ts";
 * import { assertEquals } from "./assert.ts";
 *
 * await using peer = runPython("import sys\nprint(int(sys.argv[1]) * 2)", "21");
 * assertEquals(await peer.readLine(), "42");
 * assertEquals((await peer.finish()).code, 0);
 * ```
 */
export function runPython(
  code: string,
  ...args: (string | PythonPeerOptions)[]
): PythonPeer {
  const argv = args.filter((arg) => typeof arg === "string");
  const options: PythonPeerOptions =
    args.find((arg) => typeof arg !== "string") ?? {};
  const child = spawn(["-u", "-c", code, ...argv], {
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const stdin = options.stdin === "piped" ? child.stdin.getWriter() : undefined;
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  let printed = "";
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let finished: Promise<PythonResult> | undefined;
  const peer: PythonPeer = {
    pid: child.pid,
    async readLine() {
      for (let reads = 0; !pending.includes("\n") && reads < 10_000; reads++) {
        const { value, done } = await reader.read();
        if (done) break;
        pending += value;
        printed += value;
      }
      const end = pending.indexOf("\n");
      if (end === -1) {
        throw new Error(`${PYTHON} printed no line: ${await stderr}`);
      }
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      return line;
    },
    finish() {
      finished ??= (async () => {
        for (let reads = 0; reads < 100_000; reads++) {
          const { value, done } = await reader.read();
          if (done) break;
          printed += value;
        }
        const { code } = await status;
        return { code, stdout: printed, stderr: await stderr };
      })();
      return finished;
    },
    kill(signal: Deno.Signal = "SIGKILL") {
      if (exited) return;
      try {
        child.kill(signal);
      } catch { /* exited meanwhile */ }
    },
    async write(text: string) {
      if (!stdin) {
        throw new Error('runPython: write() needs { stdin: "piped" }');
      }
      await stdin.write(new TextEncoder().encode(text));
    },
    async closeStdin() {
      await stdin?.close().catch(() => {});
    },
    async [Symbol.asyncDispose]() {
      peer.kill();
      await peer.closeStdin();
      await peer.finish();
    },
  };
  return peer;
}
