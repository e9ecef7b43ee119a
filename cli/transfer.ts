// send and receive: the file-transfer protocol of examples/file_transfer.ts,
// in both of its formats.
//
//   module:   message() head {name, size, sha256} ->  <- {status: "ready"}
//             size bytes, then end of stream       ->  <- {status: "ok"}
//   tutorial: struct.pack("<i", len(head)), head {"filename", "filesize"},
//             the body, then the sender closes; nothing comes back
//
// The receiver reads the head's 4-byte length in either byte order (see the
// example's header), checks the size and sha256, and only then moves the
// temporary file into place.

import { createHash } from "node:crypto";
import { message, SocketError } from "../mod.ts";
import {
  checkFileName,
  exists,
  place,
  sha256File,
  TransferError,
  uploadHead,
} from "./file_protocol.ts";

import type { CommandLine } from "./args.ts";
import { addressOf, bind, open, showAddress, type Socket } from "./endpoint.ts";
import { onInterrupt } from "./interrupt.ts";
import { status } from "./io.ts";
import { Progress } from "./progress.ts";

const framing = message();
const tutorialHead = message({ littleEndian: true, sizeKey: "filesize" }).head;
const NO_BODY = new Uint8Array(0);

/** `wire send FILE ADDR`. */
export async function sendCommand(line: CommandLine): Promise<void> {
  const path = line.args[0];
  const address = addressOf(line, line.args[1], 1);
  const name = path.split(/[/\\]/).pop()!;
  const info = await Deno.stat(path);
  if (!info.isFile) throw new TransferError(`${path} is not a file`);
  const size = info.size;
  const sha256 = await sha256File(path);
  await using socket = await open(line, address);
  const stop = onInterrupt(() => socket.destroy());
  socket.timeout = 30_000;
  const tutorial = line.protocol === "tutorial";
  if (tutorial) {
    await socket.sendFrame({ filename: name, filesize: size }, tutorialHead);
  } else {
    await socket.sendFrame({ name, size, sha256 }, framing.head);
    const ready = await socket.recvFrame(framing);
    if (ready?.header.status !== "ready") {
      throw new TransferError(
        String(ready?.header.error ?? "the receiver closed the connection"),
      );
    }
  }
  const progress = new Progress(`sending ${name}`, size);
  using file = await Deno.open(path);
  let sent = 0;
  try {
    for await (const chunk of file.readable) {
      const part = chunk.subarray(0, size - sent);
      if (part.length > 0) await socket.send(part);
      sent += part.length;
      progress.update(sent);
      if (sent === size) break;
    }
    if (sent < size) throw new TransferError(`${path} shrank while sent`);
    await socket.closeWrite();
  } finally {
    progress.end();
  }
  if (tutorial) {
    try {
      if (await socket.recv(1) !== null) {
        throw new TransferError(
          "the receiver answered: it does not speak the tutorial's protocol",
        );
      }
    } catch (error) {
      if (error instanceof SocketError && error.code === "ECONNRESET") {
        throw new TransferError("the receiver reset the connection");
      }
      throw error;
    }
    status(`sent ${name} (${size} bytes) in the tutorial's format`);
  } else {
    const done = await socket.recvFrame(framing);
    if (done?.header.status !== "ok") {
      throw new TransferError(
        String(done?.header.error ?? "the receiver closed the connection"),
      );
    }
    status(
      `sent ${name} (${size} bytes, sha256 ${sha256}); the receiver checked it`,
    );
  }
  stop();
}

/** `wire receive --dir DIR ADDR`. */
export async function receiveCommand(line: CommandLine): Promise<void> {
  const dir = line.dir!.replace(/[/\\]+$/, "") || "/";
  await Deno.mkdir(dir, { recursive: true });
  const server = await bind(line, addressOf(line, line.args[0], 0));
  const stop = onInterrupt(() => server.close());
  status(`receiving files into ${dir} on ${showAddress(server.addr)}`);
  try {
    for await (const socket of server) {
      try {
        await receiveOne(socket as Socket, dir, line.overwrite);
      } catch (error) {
        status(
          `transfer failed: ${(error as Error).message}${
            error instanceof SocketError ? ` (${error.code})` : ""
          }`,
        );
        if (line.once) throw error;
      } finally {
        await (socket as Socket)[Symbol.asyncDispose]();
      }
      if (line.once) break;
    }
  } finally {
    server.close();
    stop();
  }
}

async function receiveOne(
  socket: Socket,
  dir: string,
  overwrite: boolean,
): Promise<void> {
  socket.timeout = 30_000;
  const head = await socket.recvFrame(uploadHead);
  if (head === null) return;
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(new TextDecoder().decode(head));
  } catch {
    throw new TransferError("the header is not JSON");
  }
  const tutorial = "filename" in fields && !("name" in fields);
  const name = tutorial ? fields.filename : fields.name;
  const size = tutorial ? fields.filesize : fields.size;
  const sha256 = tutorial ? undefined : fields.sha256;
  const answer = async (header: Record<string, unknown>) => {
    if (tutorial) return;
    await socket.sendFrame({ header, body: NO_BODY }, framing);
    await socket.flush();
  };
  const refusal = checkFileName(name) ??
    (Number.isSafeInteger(size) && (size as number) >= 0
      ? undefined
      : `the size ${JSON.stringify(size)} is not a whole number of bytes`) ??
    (!overwrite && await exists(`${dir}/${name}`)
      ? `${name} already exists (receive with --overwrite to replace it)`
      : undefined);
  if (refusal !== undefined) {
    await answer({ status: "error", error: refusal });
    throw new TransferError(`refused: ${refusal}`);
  }
  const target = `${dir}/${name}`;
  const temp = `${dir}/.${name}.${crypto.randomUUID().slice(0, 8)}.part`;
  await answer({ status: "ready" });
  const progress = new Progress(`receiving ${name}`, size as number);
  const hash = createHash("sha256");
  let received = 0;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true });
    await socket.recvStream(size as number).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          hash.update(chunk);
          received += chunk.length;
          progress.update(received);
          controller.enqueue(chunk);
        },
      }),
    ).pipeTo(file.writable);
    const extra = await socket.recv(1);
    const actual = hash.digest("hex");
    const damage = extra !== null
      ? "more bytes than its header announced"
      : sha256 !== undefined && actual !== sha256
      ? `sha256 ${actual}, expected ${sha256}`
      : undefined;
    if (damage !== undefined) {
      await answer({
        status: "error",
        error: `${name} arrived damaged: ${damage}`,
      });
      throw new TransferError(`${name} arrived damaged: ${damage}`);
    }
    const clash = await place(temp, target, overwrite);
    if (clash !== undefined) {
      await answer({ status: "error", error: clash.error });
      throw new TransferError(`refused: ${clash.error}`);
    }
    await answer({ status: "ok", sha256: actual });
    status(`received ${name} (${size} bytes, sha256 ${actual})`);
  } finally {
    progress.end();
    await Deno.remove(temp).catch(() => {});
  }
}
