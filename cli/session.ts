// connect and listen: stdin to the peer, the peer to stdout, over TCP, TLS,
// a Unix socket, or UDP. Without --framing, bytes pass as they are (text) or
// each read prints as a line (hex, base64, json); with it, each stdin line is
// one frame and each frame received prints on its own line.

import {
  bindUdp,
  type Framing,
  parseFraming,
  SocketError,
  type UdpSocket,
} from "../mod.ts";
import type { CommandLine } from "./args.ts";
import {
  type Address,
  addressOf,
  bind,
  open,
  showAddress,
  type Socket,
} from "./endpoint.ts";
import { formatFrame, type Frame, parseInput } from "./format.ts";
import { onInterrupt } from "./interrupt.ts";
import { lines, status, writeOut } from "./io.ts";

/** `wire connect`: resolves when the peer has finished. */
export async function connectCommand(line: CommandLine): Promise<void> {
  const address = addressOf(line, line.args[0], 1);
  if (line.udp) return await udpConnect(line, address);
  const socket = await open(line, address);
  status(`connected to ${showAddress(socket.remoteAddr)}`);
  await session(socket, line);
}

/** `wire listen`: takes the first connection, then works as connect. */
export async function listenCommand(line: CommandLine): Promise<void> {
  const address = addressOf(line, line.args[0], 0);
  if (line.udp) return await udpListen(line, address);
  const server = await bind(line, address);
  const stop = onInterrupt(() => server.close());
  status(`listening on ${showAddress(server.addr)}`);
  let socket: Socket;
  try {
    socket = await server.accept();
  } finally {
    server.close();
    stop();
  }
  status(`connection from ${showAddress(socket.remoteAddr)}`);
  await session(socket, line);
}

/** A peer gone while we were still sending: the session just ends. */
function isGone(error: unknown): boolean {
  return error instanceof SocketError &&
    ["EPIPE", "ECONNRESET", "ECLOSED", "EOF"].includes(error.code);
}

/** Runs stdin to `socket` and `socket` to stdout until the peer finishes. */
export async function session(
  socket: Socket,
  line: CommandLine,
): Promise<void> {
  const stop = onInterrupt(() => socket[Symbol.asyncDispose]());
  const framing = parseFraming(line.framing) as Framing<Frame>;
  const raw = line.framing === "raw";
  const message = "head" in framing;
  let sendError: unknown;
  const sending = (async () => {
    if (raw && line.format === "text") {
      for await (const chunk of Deno.stdin.readable) await socket.send(chunk);
    } else {
      for await (const text of lines(Deno.stdin.readable)) {
        const frame = parseInput(text, line.format, message);
        if (raw) await socket.send(frame as Uint8Array);
        else await socket.sendFrame(frame, framing);
      }
    }
    await socket.closeWrite();
  })().catch((error) => {
    sendError = error;
  });
  try {
    if (raw) {
      for (;;) {
        const chunk = await socket.recv();
        if (chunk === null) break;
        await writeOut(
          line.format === "text"
            ? chunk
            : formatFrame(chunk, line.format) + "\n",
        );
      }
    } else {
      for await (const frame of socket.frames(framing)) {
        await writeOut(formatFrame(frame as Frame, line.format) + "\n");
      }
    }
    // The peer has finished; what we could not send no longer matters,
    // unless it failed for another reason than the peer being gone.
    await Promise.race([sending, new Promise((r) => setTimeout(r, 0))]);
    if (sendError !== undefined && !isGone(sendError)) throw sendError;
  } finally {
    await socket[Symbol.asyncDispose]();
    stop();
  }
}

/** The address to bind to reach `hostname`: loopback stays on loopback. */
function localFor(hostname: string): string {
  if (hostname.includes(":")) return hostname === "::1" ? "::1" : "::";
  return hostname.startsWith("127.") || hostname === "localhost"
    ? "127.0.0.1"
    : "0.0.0.0";
}

function udpAddress(address: Address): { hostname: string; port: number } {
  if (address.path !== undefined) {
    throw new SocketError("EINVAL", "UDP needs HOST:PORT, not a Unix path");
  }
  return address;
}

/** The datagram a line of stdin stands for (text keeps its newline). */
function datagramOf(text: string, line: CommandLine): Uint8Array {
  return line.format === "text"
    ? new TextEncoder().encode(text + "\n")
    : parseInput(text, line.format, false) as Uint8Array;
}

async function printDatagram(data: Uint8Array, line: CommandLine) {
  await writeOut(
    line.format === "text" ? data : formatFrame(data, line.format) + "\n",
  );
}

async function udpConnect(line: CommandLine, address: Address): Promise<void> {
  const target = udpAddress(address);
  using socket = bindUdp({ hostname: localFor(target.hostname), port: 0 });
  const stop = onInterrupt(() => socket.close());
  let last = Date.now();
  let sent = false;
  const receiving = (async () => {
    try {
      for await (const datagram of socket) {
        last = Date.now();
        await printDatagram(datagram.data, line);
      }
    } catch (error) {
      if (!(error instanceof SocketError && error.code === "ECLOSED")) {
        throw error;
      }
    }
  })();
  for await (const text of lines(Deno.stdin.readable)) {
    await socket.sendTo(datagramOf(text, line), target);
    sent = true;
  }
  // Replies may still come: wait until none has for --wait ms.
  const wait = line.wait ?? 500;
  last = Date.now();
  for (let i = 0; i < 100_000 && Date.now() - last < wait; i++) {
    await new Promise((r) => setTimeout(r, Math.min(50, wait)));
  }
  socket.close();
  stop();
  await receiving;
  if (!sent) status("stdin was empty: nothing sent");
}

async function udpListen(line: CommandLine, address: Address): Promise<void> {
  const local = udpAddress(address);
  using socket = bindUdp(local);
  const stop = onInterrupt(() => socket.close());
  status(`listening on udp ${showAddress(socket.addr)}`);
  let peer: Deno.NetAddr | undefined;
  (async () => {
    for await (const text of lines(Deno.stdin.readable)) {
      if (peer === undefined) {
        status("no datagram received yet: nowhere to send stdin's line");
      } else await socket.sendTo(datagramOf(text, line), peer);
    }
  })().catch((error) => status(`sending: ${error.message}`));
  try {
    await receiveAll(socket, line, (from) => peer = from);
  } finally {
    stop();
  }
}

async function receiveAll(
  socket: UdpSocket,
  line: CommandLine,
  onPeer: (addr: Deno.NetAddr) => void,
): Promise<void> {
  try {
    for await (const datagram of socket) {
      onPeer(datagram.addr);
      await printDatagram(datagram.data, line);
    }
  } catch (error) {
    if (!(error instanceof SocketError && error.code === "ECLOSED")) {
      throw error;
    }
  }
}
