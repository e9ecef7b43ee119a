// record and replay. record is a proxy that writes each frame, both ways, as
// one JSON line; replay sends a recording's client frames to a server again
// and compares each answer with the recorded one.
//
//   {"record":1,"framing":"lines"}
//   {"time":"2025-01-01T12:00:00.000Z","conn":1,"dir":"c>s","length":4,"text":"PING"}
//   {"time":"2025-01-01T12:00:00.001Z","conn":1,"dir":"s>c","length":4,"text":"PONG"}
//
// Bytes are "text" when they are UTF-8, else "base64"; a message frame has
// its "header" besides.

import { type Framing, parseFraming, SocketError } from "../mod.ts";
import { type CommandLine, UsageError } from "./args.ts";
import { addressOf, open, showAddress, type Socket } from "./endpoint.ts";
import {
  bytesFromJson,
  bytesToJson,
  type Frame,
  isMessage,
  preview,
} from "./format.ts";
import { onInterrupt } from "./interrupt.ts";
import { status, writeOut } from "./io.ts";
import {
  type Direction,
  endpoints,
  type SeenFrame,
  startProxy,
} from "./proxy.ts";

/** One recorded frame, as a JSON line holds it. */
export interface RecordedFrame {
  time: string;
  conn: number;
  dir: Direction;
  length: number;
  text?: string;
  base64?: string;
  header?: Record<string, unknown>;
}

/** The JSON line for a frame. */
export function recordLine(frame: SeenFrame): string {
  const { value } = frame;
  const body = isMessage(value) ? value.body : value;
  return JSON.stringify({
    time: frame.time.toISOString(),
    conn: frame.conn,
    dir: frame.direction,
    length: body.length,
    ...(isMessage(value) ? { header: value.header } : {}),
    ...bytesToJson(body),
  });
}

/** `wire record LISTEN TARGET`. */
export async function recordCommand(line: CommandLine): Promise<void> {
  const { server, target, connectTarget } = await endpoints(line);
  await writeOut(JSON.stringify({ record: 1, framing: line.framing }) + "\n");
  let out = Promise.resolve();
  const proxy = startProxy({
    server,
    connectTarget,
    framing: line.framing,
    maxConnections: line.once ? 1 : undefined,
    onFrame: (frame) => {
      const text = recordLine(frame) + "\n";
      out = out.then(() => writeOut(text));
    },
    onError: (conn, error) => status(`#${conn}: ${(error as Error).message}`),
  });
  onInterrupt(async () => {
    await proxy.close();
    await out;
  });
  status(`recording ${showAddress(proxy.addr)} to ${showAddress(target)}`);
  await proxy.finished;
  await out;
}

/** The frames of a recording, by connection. */
export function parseRecording(text: string): {
  framing?: string;
  conns: Map<number, RecordedFrame[]>;
} {
  const conns = new Map<number, RecordedFrame[]>();
  let framing: string | undefined;
  let n = 0;
  for (const raw of text.split("\n")) {
    n++;
    if (raw.trim() === "") continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new UsageError(`line ${n} of the recording is not JSON`);
    }
    if (value.record !== undefined) {
      framing = String(value.framing ?? "raw");
      continue;
    }
    if (value.dir !== "c>s" && value.dir !== "s>c") {
      throw new UsageError(`line ${n} of the recording has no dir c>s or s>c`);
    }
    const conn = Number(value.conn ?? 1);
    conns.set(conn, [
      ...conns.get(conn) ?? [],
      value as unknown as RecordedFrame,
    ]);
  }
  return { framing, conns };
}

function frameOf(recorded: RecordedFrame, message: boolean): Frame {
  const body = bytesFromJson(recorded as unknown as Record<string, unknown>);
  return message ? { header: recorded.header ?? {}, body } : body;
}

function equal(a: Frame, b: Frame): boolean {
  const ab = isMessage(a) ? a.body : a;
  const bb = isMessage(b) ? b.body : b;
  if (ab.length !== bb.length || !ab.every((x, i) => x === bb[i])) return false;
  if (!isMessage(a) || !isMessage(b)) return true;
  return JSON.stringify(a.header) === JSON.stringify(b.header);
}

function show(frame: Frame): string {
  return isMessage(frame)
    ? `${JSON.stringify(frame.header)} body ${frame.body.length} ${
      preview(frame.body)
    }`
    : `${frame.length} bytes ${preview(frame)}`;
}

/** `wire replay FILE TARGET`: returns 1 when an answer differs, else 0. */
export async function replayCommand(line: CommandLine): Promise<number> {
  const file = line.args[0];
  const text = file === "-"
    ? await new Response(Deno.stdin.readable).text()
    : await Deno.readTextFile(file);
  const recording = parseRecording(text);
  const spec = line.framingGiven ? line.framing : recording.framing ?? "raw";
  const address = addressOf(line, line.args[1], 1);
  const framing = parseFraming(spec) as Framing<Frame>;
  const message = "head" in framing;
  const raw = spec === "raw";
  const timeout = line.timeout ?? 5000;
  let differ = 0;
  let answers = 0;
  for (const [conn, frames] of recording.conns) {
    const socket: Socket = await open(line, address);
    const stop = onInterrupt(() => socket.destroy());
    try {
      let n = 0;
      for (const recorded of frames) {
        n++;
        const expected = frameOf(recorded, message);
        if (recorded.dir === "c>s") {
          if (raw) await socket.send(expected as Uint8Array);
          else await socket.sendFrame(expected, framing);
          continue;
        }
        answers++;
        const got = await answer(socket, framing, raw, expected, timeout);
        if (typeof got === "string" || !equal(got, expected)) {
          differ++;
          await writeOut(
            `#${conn} frame ${n} (s>c): expected ${show(expected)}, got ${
              typeof got === "string" ? got : show(got)
            }\n`,
          );
          if (typeof got === "string") break;
        }
      }
    } finally {
      socket.destroy();
      stop();
    }
  }
  await writeOut(
    differ === 0
      ? `all ${answers} answers match\n`
      : `${differ} of ${answers} answers differ\n`,
  );
  return differ === 0 ? 0 : 1;
}

/** The next answer, or what happened instead ("end of stream", a timeout). */
async function answer(
  socket: Socket,
  framing: Framing<Frame>,
  raw: boolean,
  expected: Frame,
  timeout: number,
): Promise<Frame | string> {
  try {
    if (raw) {
      return await socket.recvExactly((expected as Uint8Array).length, {
        timeout,
      });
    }
    const frame = await socket.recvFrame(framing, { timeout });
    return frame === null ? "end of stream" : frame;
  } catch (error) {
    if (error instanceof SocketError) {
      if (error.code === "EOF") return "end of stream";
      if (error.code === "ETIMEDOUT") return `nothing within ${timeout} ms`;
      return `${error.message} (${error.code})`;
    }
    throw error;
  }
}
