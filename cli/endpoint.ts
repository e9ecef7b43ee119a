// Addresses on the command line (HOST:PORT, [IPV6]:PORT, PORT, unix:PATH)
// and the TLS flags, turned into the library's connect and listen options.

import {
  connect,
  listen,
  type StreamServer,
  type StreamSocket,
  type TlsConnectOptions,
} from "../mod.ts";
import { type CommandLine, UsageError } from "./args.ts";

/** A connection over TCP, TLS or a Unix socket. */
export type Socket = StreamSocket<Uint8Array, Deno.Addr>;
/** A listener over TCP, TLS or a Unix socket. */
export type Server = StreamServer<Uint8Array, Deno.Addr>;

/** Where to connect or listen. */
export type Address =
  | { hostname: string; port: number; path?: undefined }
  | { path: string; hostname?: undefined; port?: undefined };

/**
 * Parses `HOST:PORT`, `[IPV6]:PORT`, `:PORT` or `PORT` (host 127.0.0.1), or
 * `unix:PATH`. `minPort` is 0 for a listening address, 1 for a target.
 *
 * @throws {UsageError} It is none of those, or the port is out of range.
 */
export function parseAddress(
  text: string,
  minPort: 0 | 1,
  usage?: string,
): Address {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") throw new UsageError("unix: needs a PATH", usage);
    return { path };
  }
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d+)$/.exec(text) ??
    /^()()(\d+)$/.exec(text);
  if (!match) {
    throw new UsageError(
      `an address is HOST:PORT, [IPV6]:PORT, PORT or unix:PATH, got ${text}`,
      usage,
    );
  }
  const hostname = match[1] || match[2] || "127.0.0.1";
  const port = Number(match[3]);
  if (port < minPort || port > 65535) {
    throw new UsageError(
      `a port is a number from ${minPort} to 65535, got ${match[3]}`,
      usage,
    );
  }
  return { hostname, port };
}

/** `host:port`, `[v6]:port` or `unix:path`, as the tool prints addresses. */
export function showAddress(addr: Deno.Addr | Address): string {
  if ("path" in addr && addr.path !== undefined) return `unix:${addr.path}`;
  const { hostname, port } = addr as { hostname: string; port: number };
  return hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/** The address an argument or --path names. */
export function addressOf(
  line: CommandLine,
  text: string | undefined,
  minPort: 0 | 1,
): Address {
  if (line.path !== undefined) return { path: line.path };
  return parseAddress(text ?? "", minPort);
}

/** The client TLS options the flags ask for, or undefined for none. */
export async function clientTls(
  line: CommandLine,
): Promise<TlsConnectOptions | undefined> {
  if (!line.tls && line.ca === undefined) return undefined;
  return {
    ...(line.ca === undefined
      ? {}
      : { caCerts: [await Deno.readTextFile(line.ca)] }),
    ...(line.serverName === undefined ? {} : { serverName: line.serverName }),
  };
}

/** Connects to `address` as the flags say (TLS, timeout). */
export async function open(
  line: CommandLine,
  address: Address,
): Promise<Socket> {
  const timeout = line.timeout ?? 10_000;
  if (address.path !== undefined) {
    return await connect({ path: address.path, timeout }) as unknown as Socket;
  }
  const tls = await clientTls(line);
  return await connect({
    hostname: address.hostname,
    port: address.port,
    timeout,
    ...(tls ? { tls } : {}),
  }) as unknown as Socket;
}

/** Listens on `address` as the flags say (TLS with --cert and --key). */
export async function bind(
  line: CommandLine,
  address: Address,
): Promise<Server> {
  if (address.path !== undefined) {
    return listen({ path: address.path }) as unknown as Server;
  }
  const tls = line.cert !== undefined && line.key !== undefined
    ? {
      cert: await Deno.readTextFile(line.cert),
      key: await Deno.readTextFile(line.key),
    }
    : undefined;
  if (line.tls && !tls && line.command === "listen") {
    throw new UsageError("listening over TLS needs --cert FILE and --key FILE");
  }
  return listen({
    hostname: address.hostname,
    port: address.port,
    ...(tls ? { tls } : {}),
  }) as unknown as Server;
}
