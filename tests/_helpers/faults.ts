// Shared by the faults_*_test.ts files: a watch on serve()'s handlers and
// reports, bounded polling, an echo handler, a healthy client that checks
// every reply, and a count of this process's open file descriptors.

import { connect, FrameError, SocketError, type TcpSocket } from "../../mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { delay } from "./async.ts";
import { KiB } from "./bytes.ts";
import { random, streamBytes } from "./sockets.ts";

/** What a serve() run reported, and how its handlers ended. */
export interface Watch {
  errors: unknown[];
  onError: (error: unknown) => void;
  started: number;
  ended: number;
  /** The code each handler's escaping error had ("ok" for a normal return). */
  outcomes: string[];
  /** Wraps a handler so its start, end and outcome are counted. */
  wrap(
    handler: (socket: TcpSocket) => Promise<void>,
  ): (socket: TcpSocket) => Promise<void>;
}

export function watch(): Watch {
  const w: Watch = {
    errors: [],
    onError: (error) => w.errors.push(error),
    started: 0,
    ended: 0,
    outcomes: [],
    wrap: (handler) => async (socket) => {
      w.started++;
      try {
        await handler(socket);
        w.outcomes.push("ok");
      } catch (error) {
        w.outcomes.push(
          error instanceof SocketError
            ? error.code
            : `${(error as Error)?.name}: ${(error as Error)?.message}`,
        );
        throw error;
      } finally {
        w.ended++;
      }
    },
  };
  return w;
}

/** Polls `condition` every 10 ms for at most `ms`; fails with `what` if it stays false. */
export async function until(
  condition: () => boolean,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`Still waiting after ${ms} ms: ${what}`);
    }
    await delay(10);
  }
}

/** An echo handler: every frame back, until the client's clean end. */
export async function echo(socket: TcpSocket): Promise<void> {
  for await (const frame of socket.frames()) await socket.sendFrame(frame);
}

/**
 * A healthy client doing framed round trips until `stop()` is true, with a
 * pause of `pauseMs` between them; every reply is checked against its request.
 */
export async function healthy(
  port: number,
  tag: string,
  stop: () => boolean,
  pauseMs = 0,
): Promise<number> {
  await using client = await connect({ port, timeout: 10_000 });
  client.timeout = 10_000;
  const next = random(tag.length * 7919 + 17);
  // A 1-byte hello first: 5 bytes on the wire, so a handler that sees 8 or
  // more buffered before the first frame completes knows it is not healthy.
  const hello = new Uint8Array([tag.length]);
  await client.sendFrame(hello);
  assertEquals(await client.recvFrame(), hello, `${tag}: hello`);
  let done = 0;
  for (let i = 0; i < 100_000 && (i < 3 || !stop()); i++) {
    const request = streamBytes(i * 131, next(0, 4 * KiB));
    request[0] = i & 255;
    await client.sendFrame(request);
    const reply = await client.recvFrame();
    assertEquals(reply, request, `${tag}: round trip ${i}`);
    done++;
    if (pauseMs > 0) await delay(pauseMs);
  }
  return done;
}

/** The code of a SocketError or FrameError; fails for any other error. */
export function codeOf(error: unknown): string {
  if (error instanceof SocketError || error instanceof FrameError) {
    assert(
      typeof error.code === "string" && (error.code as string) !== "",
      `${error.name} without a code: ${error.message}`,
    );
    return error.code;
  }
  throw error;
}

/**
 * Open file descriptors of this process (Linux), or undefined elsewhere.
 * Sockets are file descriptors: a leaked one shows here. Deno lets a program
 * read its own /proc entries only with --allow-all, so `ls` lists them (the
 * pipe to it counts as one, before and after alike).
 */
export async function openFds(): Promise<number | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  const { success, stdout } = await new Deno.Command("ls", {
    args: ["-1", `/proc/${Deno.pid}/fd`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!success) return undefined;
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean).length;
}

/**
 * Waits (bounded) until this process has no more open file descriptors than
 * `before`: sockets are closed a moment after the promises that close them
 * settle.
 */
export async function noFdLeak(
  before: number | undefined,
  what: string,
): Promise<void> {
  if (before === undefined) return;
  let now = await openFds();
  for (let polls = 0; polls < 200 && now! > before; polls++) {
    await delay(25);
    now = await openFds();
  }
  assert(now! <= before, `${what}: ${now} fds open, ${before} before`);
}
