// Helpers for the tests in tests/examples/: read the `// Run:` lines of an
// example's header, pick free ports, and run an example as a child process
// whose output lines can be awaited with a deadline.

import { DenoChild, ROOT } from "./child.ts";

export { ROOT };

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
export class ExampleProcess extends DenoChild {
  /** Every complete stdout line so far (and the last one once stdout ends). */
  readonly lines: string[] = [];
  #pending = "";

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
    super(flags, script, args, options);
  }

  protected override onStdout(text: string): void {
    const parts = (this.#pending + text).split("\n");
    this.#pending = parts.pop()!;
    this.lines.push(...parts);
  }

  protected override onStdoutEnd(): void {
    if (this.#pending !== "") this.lines.push(this.#pending);
    this.#pending = "";
  }

  /**
   * Waits until a stdout line (from line `from` on) matches `pattern`.
   *
   * @returns The match.
   * @throws Error when the deadline passes or stdout ends first.
   */
  waitFor(
    pattern: RegExp,
    timeoutMs = 15_000,
    from = 0,
  ): Promise<RegExpMatchArray> {
    let seen = from;
    return this.until(
      () => {
        for (; seen < this.lines.length; seen++) {
          const match = this.lines[seen].match(pattern);
          if (match) return match;
        }
        return undefined;
      },
      timeoutMs,
      `line matching ${pattern}`,
      true,
    );
  }

  /**
   * Waits for the child to exit and its output to be read, at most
   * `timeoutMs`; then kills it and throws.
   */
  exit(timeoutMs = 15_000): Promise<Deno.CommandStatus> {
    return this.exited(timeoutMs);
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
