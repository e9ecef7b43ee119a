// Sockets in tests: pairs over TCP, TLS and Unix sockets, typed error checks
// and deterministic byte streams.

import {
  connect,
  FrameError,
  type FrameErrorCode,
  listen,
  SocketError,
  type SocketOptions,
  type TcpServer,
  TcpSocket,
  tryConnect,
} from "../../mod.ts";
import { assert, assertInstanceOf, concat } from "./assert.ts";
import { Rng } from "./random.ts";
import { rejection } from "./async.ts";
import { KiB, MiB, text } from "./bytes.ts";
import { CA_CERT, CERT, KEY, socketPath } from "./transports.ts";

/** The transports a pair can run over. */
export type Transport = "tcp" | "tls" | "unix";
/** Every transport: loop a test over it to run it over each. */
export const TRANSPORTS: readonly Transport[] = ["tcp", "tls", "unix"];
/** The Unix socket slot the pairs use (tests/_helpers/transports.ts). */
const PAIR_SLOT = 7;

/** Where a pair's server listens, and how its client reaches it. */
function endpoints(transport: Transport): {
  listen: Record<string, unknown>;
  connect: (server: TcpServer) => Record<string, unknown>;
} {
  switch (transport) {
    case "tcp":
      return { listen: {}, connect: (server) => ({ port: server.addr.port }) };
    case "tls":
      return {
        listen: { tls: { cert: CERT, key: KEY } },
        connect: (server) => ({
          port: server.addr.port,
          tls: { caCerts: [CA_CERT] },
        }),
      };
    case "unix": {
      const path = socketPath(PAIR_SLOT);
      return { listen: { path }, connect: () => ({ path }) };
    }
  }
}

/** Asserts that `promise` rejects with a SocketError whose code is one of `codes`. */
export async function socketError(
  promise: Promise<unknown>,
  ...codes: string[]
): Promise<SocketError> {
  const error = await rejection(promise);
  assertInstanceOf(error, SocketError);
  assert(
    codes.includes(error.code),
    `Expected a SocketError ${
      codes.join(" or ")
    }, got ${error.code}: ${error.message}`,
  );
  return error;
}

/** Asserts that `promise` rejects with a FrameError of `code`. */
export async function frameError(
  promise: Promise<unknown>,
  code: FrameErrorCode,
): Promise<FrameError> {
  const error = await rejection(promise);
  assertInstanceOf(error, FrameError);
  assert(
    error.code === code,
    `Expected FrameError ${code}, got ${error.code}: ${error.message}`,
  );
  return error;
}

/** A listening server, a client connected to it and the accepted peer. */
export interface Pair extends AsyncDisposable {
  server: TcpServer;
  client: TcpSocket;
  peer: TcpSocket;
}

/**
 * Connects two TcpSockets over 127.0.0.1 (or over TLS, or a Unix socket);
 * `await using` closes all three. (Over Unix the addresses are UnixAddrs
 * whatever the types say: tests run over every transport read no port.)
 */
export async function socketPair(
  clientOptions: SocketOptions = {},
  peerOptions: SocketOptions = clientOptions,
  transport: Transport = "tcp",
): Promise<Pair> {
  const where = endpoints(transport);
  const server = listen({ ...where.listen, ...peerOptions }) as TcpServer;
  // TLS: the client's connect completes once the server accepts.
  const accepted = server.accept();
  let client: TcpSocket;
  try {
    client = await connect(
      {
        ...where.connect(server),
        ...clientOptions,
      } as Parameters<typeof connect>[0],
    ) as TcpSocket;
  } catch (error) {
    server.close();
    await accepted.catch(() => {});
    throw error;
  }
  const peer = await accepted;
  return {
    server,
    client,
    peer,
    [Symbol.asyncDispose]() {
      client.destroy();
      peer.destroy();
      server.close();
      return Promise.resolve();
    },
  };
}

/** A TcpSocket client whose peer is a plain `Deno.Conn` (TCP, TLS or Unix). */
export interface RawPair extends AsyncDisposable {
  client: TcpSocket;
  /** A `Deno.TcpConn` over TCP; over TLS and Unix, their connections (typed as one). */
  raw: Deno.TcpConn;
}

/**
 * Registers the test `name` once per transport, named `name [transport]`:
 * an existing test runs over TCP, TLS and Unix sockets by taking the
 * transport and handing it to `socketPair`/`rawPair`.
 */
export function testOverTransports(
  name: string,
  fn: (transport: Transport) => Promise<void>,
): void {
  for (const transport of TRANSPORTS) {
    Deno.test(`${name} [${transport}]`, () => fn(transport));
  }
}

/**
 * Connects a TcpSocket to a raw Deno connection; `await using` closes both.
 * With `prepare`, the client's connection is handed to it before the socket
 * wraps it (to count its writes, say).
 */
export async function rawPair(
  options: SocketOptions = {},
  prepare?: (conn: Deno.TcpConn) => void,
  transport: Transport = "tcp",
): Promise<RawPair> {
  if (transport !== "tcp") return rawPairOver(transport, options);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = listener.addr.port;
    let client: TcpSocket;
    if (prepare) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      prepare(conn);
      client = new TcpSocket(conn, options);
    } else {
      client = await connect({ port, ...options });
    }
    return pairOf(client, await listener.accept());
  } finally {
    listener.close();
  }
}

/** A RawPair of `client` and `raw`; disposing it closes both at once. */
function pairOf(client: TcpSocket, raw: Deno.TcpConn): RawPair {
  return {
    client,
    raw,
    [Symbol.asyncDispose]() {
      client.destroy();
      closeQuietly(raw);
      return Promise.resolve();
    },
  };
}

/** rawPair over TLS (the raw peer a Deno.listenTls connection) or Unix. */
async function rawPairOver(
  transport: "tls" | "unix",
  options: SocketOptions,
): Promise<RawPair> {
  const path = transport === "unix" ? socketPath(PAIR_SLOT) : undefined;
  const listener: Deno.Listener = path === undefined
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: CERT, key: KEY })
    : Deno.listen({ transport: "unix", path });
  try {
    const accepted = listener.accept().then(async (conn) => {
      if (transport === "tls") await (conn as Deno.TlsConn).handshake();
      return conn;
    });
    const client = await connect(
      (path === undefined
        ? {
          port: (listener.addr as Deno.NetAddr).port,
          tls: { caCerts: [CA_CERT] },
          ...options,
        }
        : { path, ...options }) as Parameters<typeof connect>[0],
    ) as TcpSocket;
    return pairOf(client, (await accepted) as Deno.TcpConn);
  } finally {
    listener.close();
  }
}

export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}

/** Writes every byte of `bytes` to a raw connection. */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** Reads a raw connection to its end (at most `limit` bytes, for safety). */
export async function readToEnd(
  conn: Deno.Conn,
  limit = 256 * MiB,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * KiB);
  while (total <= limit) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  return concat(chunks);
}

/** A port nothing listens on (it was free a moment ago). */
export function closedPort(): number {
  const server = listen();
  const port = server.addr.port;
  server.close();
  return port;
}

/**
 * A listener that never accepts, with `backlog: 1` and its accept queue
 * filled, so Linux drops further SYNs: a connect to it hangs until its
 * timeout. `await using` closes everything.
 */
export async function fullListener(): Promise<
  { port: number } & AsyncDisposable
> {
  const server = listen({ backlog: 1 });
  const queued: TcpSocket[] = [];
  for (let i = 0; i < 4; i++) {
    const result = await tryConnect({ port: server.addr.port, timeout: 100 });
    if (!result.ok) break; // The queue is full.
    queued.push(result.socket);
  }
  assert(queued.length >= 1, "No connection was queued");
  return {
    port: server.addr.port,
    [Symbol.asyncDispose]() {
      for (const socket of queued) socket.destroy();
      server.close();
      return Promise.resolve();
    },
  };
}

/** Integers in [lo, hi] from `new Rng(seed)` (tests/_helpers/random.ts). */
export function random(seed: number): (lo: number, hi: number) => number {
  const rng = new Rng(seed);
  return (lo, hi) => rng.range(lo, hi);
}

/** The byte at `offset` of the long test stream; 64 KiB-aligned chunks are identical. */
export const streamByte = (offset: number): number => (offset * 31 + 7) & 255;

/** `length` bytes of the long test stream from `offset`. */
export function streamBytes(offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = streamByte(offset + i);
  return bytes;
}

/** Index of the first byte of `chunk` that is not the stream's at `offset`, or -1. */
export function firstMismatch(chunk: Uint8Array, offset: number): number {
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] !== streamByte(offset + i)) return i;
  }
  return -1;
}

/**
 * Reads from `conn` until `total` bytes of the test stream have arrived or the
 * stream ends, failing at the first wrong byte; returns the bytes received.
 */
export async function readStream(
  conn: Deno.Conn,
  total: number,
  bufferSize = 64 * KiB,
): Promise<number> {
  const buffer = new Uint8Array(bufferSize);
  let received = 0;
  // Bounded: at least one byte per read.
  for (let reads = 0; received < total && reads < total; reads++) {
    const n = await conn.read(buffer);
    if (n === null) break;
    const bad = firstMismatch(buffer.subarray(0, n), received);
    assert(bad === -1, `byte ${received + bad} is wrong`);
    received += n;
  }
  return received;
}

/** Reads one line ("\n" excluded), a byte at a time (bounded). */
export async function readLine(conn: Deno.Conn): Promise<string> {
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  for (let i = 0; i < 4096; i++) {
    const n = await conn.read(one);
    if (n === null || one[0] === 10) break;
    bytes.push(one[0]);
  }
  return text(new Uint8Array(bytes));
}
