/**
 * `wire`: a netcat that knows framing. Connects, listens, proxies (with chaos
 * on demand: split writes, delays, resets), decodes captures, sends and
 * receives files, records a conversation as JSON Lines and replays it.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:9000 jsr:@wire/socket/cli connect 127.0.0.1:9000 --framing lines
 * deno run --allow-net=127.0.0.1 jsr:@wire/socket/cli proxy 127.0.0.1:9001 127.0.0.1:9000 --framing length --split 1
 * ```
 *
 * `wire --help` lists the subcommands, `wire COMMAND --help` each one's
 * options and the permissions it needs. Bad arguments exit with status 2,
 * network and protocol errors with 1 (the error's message and code on
 * stderr), Ctrl-C with 0 once everything is closed.
 *
 * The tool is a program: this module exports only {@linkcode main}.
 *
 * @example Printing the help
 * ```ts ignore
 * import { main } from "@wire/socket/cli";
 *
 * Deno.exit(await main(["--help"]));
 * ```
 *
 * @module
 */

import { FrameError, SocketError } from "./mod.ts";
import { parseCommandLine, UsageError } from "./cli/args.ts";
import { exitOnInterrupt } from "./cli/interrupt.ts";
import { status, writeOut } from "./cli/io.ts";
import { connectCommand, listenCommand } from "./cli/session.ts";
import { proxyCommand } from "./cli/proxy.ts";
import { dumpCommand } from "./cli/dump.ts";
import { TransferError } from "./cli/file_protocol.ts";
import { receiveCommand, sendCommand } from "./cli/transfer.ts";
import { recordCommand, replayCommand } from "./cli/record.ts";

/**
 * Runs the tool with `args` (what follows `cli.ts` on the command line) and
 * returns its exit status: 0 done, 1 a network or protocol error (reported
 * on stderr with its code), 2 bad arguments (reported with the usage line).
 * Handles Ctrl-C: closes what is open and exits with status 0.
 *
 * @param args The command line, e.g. `["connect", "127.0.0.1:9000"]`.
 * @returns The exit status.
 *
 * @example Bad arguments
 * ```ts
 * import { main } from "@wire/socket/cli";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(await main(["teleport"]), 2);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  try {
    const line = parseCommandLine(args);
    if (line.help !== undefined) {
      await writeOut(line.help + "\n");
      return 0;
    }
    exitOnInterrupt(status);
    switch (line.command) {
      case "connect":
        await connectCommand(line);
        break;
      case "listen":
        await listenCommand(line);
        break;
      case "proxy":
        await proxyCommand(line);
        break;
      case "dump":
        await dumpCommand(line);
        break;
      case "send":
        await sendCommand(line);
        break;
      case "receive":
        await receiveCommand(line);
        break;
      case "record":
        await recordCommand(line);
        break;
      case "replay":
        return await replayCommand(line);
    }
    return 0;
  } catch (error) {
    return report(error);
  }
}

/** Prints an error as the tool reports it; returns the exit status. */
function report(error: unknown): number {
  if (error instanceof UsageError) {
    status(`${error.message}\n${error.usage}\n(wire --help for more)`);
    return 2;
  }
  if (error instanceof SocketError || error instanceof FrameError) {
    status(`${error.message} (${error.code})`);
    return 1;
  }
  if (
    error instanceof TransferError ||
    error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.AlreadyExists
  ) {
    status(`${error.message}${"code" in error ? ` (${error.code})` : ""}`);
    return 1;
  }
  throw error;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
