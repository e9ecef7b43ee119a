// File transfer over the `message` framing: a JSON header (name, size,
// sha256) and then the file's bytes, streamed through bounded memory: a few
// MiB of buffers whatever the file's size.
//
// Run: deno run --allow-net=127.0.0.1:9000 --allow-read=./inbox --allow-write=./inbox examples/file_transfer.ts receive --dir ./inbox
// Run: deno run --allow-net=127.0.0.1:9000 --allow-read=./photo.jpg examples/file_transfer.ts send ./photo.jpg
// Run: deno run --allow-net=127.0.0.1:9000 --allow-read=./photo.jpg examples/file_transfer.ts send ./photo.jpg --format tutorial
//
// The receiver may read and write its --dir only (it creates the directory if
// missing); the sender may read the one file it sends. Each touches only the
// one address: `--port 9100` needs `--allow-net=127.0.0.1:9100` on both sides,
// `--host` likewise (`--host 0.0.0.0` to receive from other machines needs
// `--allow-net=0.0.0.0:9000` for the receiver).
//
// The protocol, in `message()` frames (a 4-byte length, a JSON header, and a
// body of `header.size` bytes):
//
//   sender                                    receiver
//   head {name, size, sha256}           ->
//                                       <-    {status: "ready"} or {status: "error", error}
//   size bytes of file (streamed)       ->    into a temporary file in --dir
//   end of stream (closeWrite)          ->    no byte may follow the body
//                                       <-    {status: "ok"} or {status: "error", error}
//
// The receiver refuses names with "/", "\", "..", or NUL (no writing outside
// --dir) and existing files unless started with --overwrite. It checks the
// size and the sha256, and only then moves the temporary file into place, so
// a failed or interrupted transfer never leaves a partial or wrong file. A
// progress bar goes to stderr when stderr is a terminal.
//
// The receiver also takes the upload of the Python socket tutorials as they
// write it ("header dict + file content"), and `send --format tutorial` sends
// it the same way:
//
//   struct.pack("i", len(head))   4-byte header length, native byte order
//   head                          JSON {"filename": ..., "filesize": ...}
//   filesize bytes of file        then the sender closes; nothing comes back
//
// (In code, the first two are `message({ littleEndian: true, sizeKey:
// "filesize" }).head`.) A header with `filename` is that protocol: its
// `filesize` is checked and nothing is sent back (the tutorial's sender never
// reads; answering it would turn its close into a reset), so a refused file
// just sees the connection close. A header of the module's own protocol may
// leave out `sha256`: the file is then checked by its size only. Either way the
// 4-byte length may come in either byte order: it is read big-endian (network
// order: `message()`, `struct.pack("!i")`) unless that is over the header limit
// of 65535 bytes and the little-endian reading is not (`struct.pack("i")` on
// x86 and ARM, which `send --format tutorial` writes as `struct.pack("<i")`);
// then it is read little-endian. With that limit no length but 0 reads under it
// both ways round, so the choice is never a guess.

import { createHash } from "node:crypto";
import {
  connect,
  FrameError,
  type Message,
  message,
  serve,
  SocketError,
  type StreamServer,
  type StreamSocket,
} from "../mod.ts";
import { fail, parseCli, stopOnSigint, usageError } from "./_cli.ts";
import {
  checkFileName,
  exists,
  place,
  sha256File,
  TransferError,
  uploadHead,
} from "../cli/file_protocol.ts";

export { checkFileName, sha256File, TransferError };

/** The framing of every frame in the protocol; `.head` for the file's header. */
const framing = message();
/** The head of the tutorials' upload, as `send --format tutorial` writes it. */
const tutorialHead = message({ littleEndian: true, sizeKey: "filesize" }).head;
const NO_BODY = new Uint8Array(0);

/** The header that announces a file. */
export interface FileHeader {
  name: string;
  size: number;
  sha256: string;
}

/** The two upload protocols: the module's own, and the Python tutorials'. */
export type UploadFormat = "module" | "tutorial";

/** What the head of an upload announces, in either protocol. */
interface Upload {
  format: UploadFormat;
  name: unknown;
  size: unknown;
  /** Undefined when the sender sent none (the tutorial's never does). */
  sha256: unknown;
}

/** The JSON object of an upload's head, or why it is refused. */
function readUpload(json: Uint8Array): Upload | string {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch {
    return "the header is not UTF-8 JSON";
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    return "the header is not a JSON object";
  }
  const fields = header as Record<string, unknown>;
  return "filename" in fields && !("name" in fields)
    ? {
      format: "tutorial",
      name: fields.filename,
      size: fields.filesize,
      sha256: undefined,
    }
    : {
      format: "module",
      name: fields.name,
      size: fields.size,
      sha256: fields.sha256,
    };
}

/** Why `upload` cannot be received, or undefined. */
function checkUpload(upload: Upload): string | undefined {
  const { format, name, size, sha256 } = upload;
  const sizeKey = format === "tutorial" ? "filesize" : "size";
  return checkFileName(name) ??
    (Number.isSafeInteger(size) && (size as number) >= 0
      ? undefined
      : `the header's ${sizeKey} is not a whole number of bytes: ${
        JSON.stringify(size)
      }`) ??
    (sha256 === undefined ||
        (typeof sha256 === "string" && /^[0-9a-f]{64}$/.test(sha256))
      ? undefined
      : "the header's sha256 is not 64 hex digits");
}

/** A TransformStream that hashes and counts what passes, and reports progress. */
function tap(onChunk: (chunk: Uint8Array) => void) {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      onChunk(chunk);
      controller.enqueue(chunk);
    },
  });
}

/** A progress bar on stderr, drawn only when stderr is a terminal. */
function progressBar(label: string, total: number, enabled: boolean) {
  const encoder = new TextEncoder();
  let last = 0;
  const draw = (done: number) => {
    const fraction = total === 0 ? 1 : done / total;
    const filled = Math.round(fraction * 30);
    const bar = "#".repeat(filled) + " ".repeat(30 - filled);
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    Deno.stderr.writeSync(encoder.encode(
      `\r${label} [${bar}] ${Math.floor(fraction * 100)}% ${mib(done)}/${
        mib(total)
      } MiB`,
    ));
  };
  return {
    update(done: number) {
      const now = performance.now();
      if (!enabled || (now - last < 100 && done < total)) return;
      last = now;
      draw(done);
    },
    end() {
      if (enabled) Deno.stderr.writeSync(encoder.encode("\n"));
    },
  };
}

async function reply(
  socket: StreamSocket,
  header: Record<string, unknown>,
): Promise<void> {
  await socket.sendFrame({ header, body: NO_BODY }, framing);
  await socket.flush();
}

/** Options for {@linkcode receiveFiles}. */
export interface ReceiveOptions {
  hostname?: string;
  /** Default 0: the OS picks (see `addr.port`). */
  port?: number;
  /** Where files go; created if missing. */
  dir: string;
  /** Replace existing files; default false (they are refused). */
  overwrite?: boolean;
  /** Draw a progress bar on stderr; default: when stderr is a terminal. */
  progress?: boolean;
  log?: (line: string) => void;
}

/** Receives files into `options.dir`, one per connection, until shut down. */
export async function receiveFiles(
  options: ReceiveOptions,
): Promise<StreamServer> {
  const log = options.log ?? console.log;
  const dir = options.dir.replace(/[/\\]+$/, "") || "/";
  const progress = options.progress ?? Deno.stderr.isTerminal();
  await Deno.mkdir(dir, { recursive: true });
  return serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    shutdownTimeout: 2000,
    onError: (error) => log(`transfer failed: ${error}`),
  }, async (socket) => {
    const peer = `${socket.remoteAddr.hostname}:${socket.remoteAddr.port}`;
    socket.timeout = 30_000; // a sender that stalls for 30 s is gone
    const head = await socket.recvFrame(uploadHead);
    if (head === null) return;
    const upload = readUpload(head);
    // The module's sender is answered; the tutorial's never reads, so it is
    // told nothing (a refusal closes the connection).
    const answer = async (header: Record<string, unknown>) => {
      if (typeof upload === "string" || upload.format === "module") {
        await reply(socket, header);
      }
    };
    const refusal = typeof upload === "string" ? upload : checkUpload(upload);
    if (refusal !== undefined) {
      log(`refused a file from ${peer}: ${refusal}`);
      return await answer({ status: "error", error: refusal });
    }
    const { format, name, size, sha256 } = upload as Upload;
    const fileName = name as string;
    const target = `${dir}/${fileName}`;
    if (!options.overwrite && await exists(target)) {
      const error =
        `${fileName} already exists (start the receiver with --overwrite to replace it)`;
      log(`refused ${fileName} from ${peer}: it already exists`);
      return await answer({ status: "error", error });
    }
    await answer({ status: "ready" });

    // The body goes to a temporary file next to the target (same directory,
    // so the final rename is atomic), hashed on the way. Whatever goes wrong,
    // the temporary file is removed before anyone is told.
    const temp = `${dir}/.${fileName}.${crypto.randomUUID().slice(0, 8)}.part`;
    const discard = () => Deno.remove(temp).catch(() => {});
    const bar = progressBar(`receiving ${fileName}`, size as number, progress);
    let outcome: { error: string } | { sha256: string };
    try {
      const file = await Deno.open(temp, {
        write: true,
        createNew: true,
        mode: 0o666, // as for any new file: the umask applies
      });
      const hash = createHash("sha256");
      let received = 0;
      // recvStream hands out exactly `size` bytes; pipeTo closes the file
      // (also when the transfer fails).
      await socket.recvStream(size as number).pipeThrough(tap((chunk) => {
        hash.update(chunk);
        received += chunk.length;
        bar.update(received);
      })).pipeTo(file.writable);
      // The sender half-closes (or, the tutorial's, closes) after the body:
      // anything more is a body longer than its header said, and the file is
      // refused.
      const extra = await socket.recv(1);
      const actual = hash.digest("hex");
      outcome = extra !== null
        ? {
          error: `${fileName} arrived damaged: more than the ${size} bytes ` +
            `its header announced`,
        }
        : received === size && (sha256 === undefined || actual === sha256)
        ? await place(temp, target, options.overwrite ?? false) ??
          { sha256: actual }
        : {
          error: `${fileName} arrived damaged: ${received} bytes with ` +
            `sha256 ${actual}, expected ${size} bytes` +
            (sha256 === undefined ? "" : ` with sha256 ${sha256}`),
        };
    } catch (error) {
      // The sender vanished mid-way (EOF, ECONNRESET), stalled (ETIMEDOUT),
      // or the disk failed: nothing is placed.
      await discard();
      log(`transfer of ${fileName} from ${peer} failed: ${error}`);
      throw error;
    } finally {
      bar.end();
    }
    if ("error" in outcome) {
      await discard();
      log(`discarded ${fileName} from ${peer}: ${outcome.error}`);
      return await answer({ status: "error", error: outcome.error });
    }
    const checked = format === "tutorial"
      ? " in the tutorial's format: its size checked, it has no sha256"
      : sha256 === undefined
      ? ": its size checked, the sender gave no sha256"
      : "";
    log(
      `received ${fileName} (${size} bytes, sha256 ${outcome.sha256}) from ${peer}${checked}`,
    );
    await answer({ status: "ok", sha256: outcome.sha256 });
  });
}

/** Options for {@linkcode sendFile}. */
export interface SendOptions {
  hostname?: string;
  port: number;
  /** The file to send; the receiver stores it under its last path segment. */
  path: string;
  /** Draw a progress bar on stderr; default: when stderr is a terminal. */
  progress?: boolean;
  /**
   * `"tutorial"` speaks the Python tutorials' upload exactly (see the
   * header): no sha256 and no answer, so it resolves once the receiver has
   * closed the connection. Default `"module"`.
   */
  format?: UploadFormat;
}

/**
 * Sends one file; resolves once the receiver has checked and stored it (in
 * the tutorial's format: once the receiver has hung up).
 */
export async function sendFile(options: SendOptions): Promise<FileHeader> {
  const progress = options.progress ?? Deno.stderr.isTerminal();
  const name = options.path.split(/[/\\]/).pop()!;
  const info = await Deno.stat(options.path);
  if (!info.isFile) throw new TypeError(`${options.path} is not a file`);
  const size = info.size;
  const sha256 = await sha256File(options.path);
  await using socket = await connect({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    timeout: 5000,
  });
  socket.timeout = 30_000;

  const tutorial = options.format === "tutorial";
  if (tutorial) {
    // struct.pack("<i", len(head)) + head, where head is the JSON of
    // {"filename": ..., "filesize": ...}.
    await socket.sendFrame({ filename: name, filesize: size }, tutorialHead);
  } else {
    await socket.sendFrame({ name, size, sha256 }, framing.head);
    let ready: Message | null;
    try {
      ready = await socket.recvFrame(framing);
    } catch (error) {
      if (!(error instanceof SocketError && error.code === "ECONNRESET")) {
        throw error;
      }
      ready = null;
    }
    if (ready === null) {
      // A receiver of this format always answers the head. One that hangs up
      // instead most likely read it as the tutorials' upload and choked on it.
      throw new TransferError(
        "the receiver closed the connection without answering the upload's " +
          "header: it likely expects the tutorials' format (send again with " +
          "--format tutorial), or it is not a file_transfer.ts receiver",
      );
    }
    if (ready.header.status !== "ready") {
      throw new TransferError(
        String(ready.header.error ?? "the receiver refused the file"),
      );
    }
  }

  using file = await Deno.open(options.path);
  let sent = 0;
  const bar = progressBar(`sending ${name}`, size, progress);
  // Exactly `size` bytes: a file that grew since it was hashed is cut there
  // (and fails the receiver's sha256 check); one that shrank fails here.
  const body = file.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const part = chunk.subarray(0, size - sent);
        sent += part.length;
        bar.update(sent);
        if (part.length > 0) controller.enqueue(part);
        if (sent === size) controller.terminate();
      },
      flush() {
        if (sent < size) {
          throw new TransferError(
            `${options.path} shrank while it was being sent`,
          );
        }
      },
    }),
  );
  try {
    await socket.sendStream(body);
    await socket.closeWrite(); // the body ends here: flush, then FIN
  } finally {
    bar.end();
  }

  if (tutorial) {
    // The tutorial's receiver answers nothing: it closes once it has
    // `filesize` bytes. A reset instead means it refused the file or failed
    // (closing with bytes unread). A refusal can also look like a clean
    // close, when the receiver had read every byte sent before it closed:
    // that protocol cannot tell the two apart.
    let after: Uint8Array | null;
    try {
      after = await socket.recv(1);
    } catch (error) {
      if (!(error instanceof SocketError && error.code === "ECONNRESET")) {
        throw error;
      }
      throw new TransferError(
        "the receiver reset the connection: it refused the file or failed " +
          "(its own output says which)",
      );
    }
    if (after !== null) {
      throw new TransferError(
        "the receiver answered: it does not speak the tutorial's protocol " +
          "(leave out --format tutorial)",
      );
    }
    return { name, size, sha256 };
  }
  const done = await socket.recvFrame(framing);
  if (done?.header.status !== "ok") {
    throw new TransferError(
      String(done?.header.error ?? "the receiver closed the connection"),
    );
  }
  return { name, size, sha256 };
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:9000 ... examples/file_transfer.ts <receive|send> [options]

receive --dir DIR [--overwrite]   store files sent to HOST:PORT in DIR, in either
                                  protocol (Ctrl-C stops)
                                  needs --allow-read=DIR --allow-write=DIR
send FILE [--format tutorial]     send FILE to the receiver at HOST:PORT
                                  needs --allow-read=FILE

Options:
  --host HOST   address to listen on / connect to (default 127.0.0.1)
  --port PORT   port (default 9000)
  --dir DIR     receive: the directory files go to
  --overwrite   receive: replace files that exist (default: refuse them)
  --format F    send: "module" (default: name, size and sha256, checked by
                the receiver) or "tutorial" (the Python tutorials' upload:
                struct.pack("<i") header length, {"filename", "filesize"},
                the body, and no answer)
  --help        show this help

The --allow-net permission must name the same HOST:PORT.`;

async function main(): Promise<void> {
  const args = parseCli(USAGE, {
    string: { dir: "", format: "module" },
    boolean: ["overwrite"],
    minPort: (mode) => mode === "receive" ? 0 : 1,
  });
  const [mode, ...rest] = args._;

  const format = args.format;
  if (format !== "module" && format !== "tutorial") {
    usageError(USAGE, `--format must be module or tutorial, got ${format}`);
  }
  if (mode === "receive") {
    if (!args.dir) usageError(USAGE, "receive needs --dir DIR");
    if (rest.length > 0) usageError(USAGE, `unexpected argument ${rest[0]}`);
    const server = await receiveFiles({
      hostname: args.host,
      port: args.port,
      dir: args.dir,
      overwrite: args.overwrite,
    });
    console.log(
      `receiving files into ${args.dir} on ${server.addr.hostname}:${server.addr.port} (Ctrl-C to stop)`,
    );
    stopOnSigint(server);
    await server.finished;
  } else if (mode === "send") {
    if (rest.length !== 1) usageError(USAGE, "send needs one FILE");
    const { name, size, sha256 } = await sendFile({
      hostname: args.host,
      port: args.port,
      path: rest[0],
      format,
    });
    console.log(
      format === "tutorial"
        ? `sent ${name}: ${size} bytes, sha256 ${sha256}, in the tutorial's format; the receiver hung up (that protocol has no answer: the receiver's output says whether it kept the file)`
        : `sent ${name}: ${size} bytes, sha256 ${sha256}; the receiver checked it`,
    );
  } else {
    usageError(USAGE, mode ? `unknown mode ${mode}` : "say receive or send");
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    fail(error, {
      expected: [
        SocketError,
        FrameError,
        TransferError,
        Deno.errors.NotFound,
        Deno.errors.NotCapable,
        Deno.errors.PermissionDenied,
      ],
    });
  }
}
