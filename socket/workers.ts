// serveWorkers: one server on every core. Each worker runs serve() on the
// same port with its own reusePort listener (Linux balances new connections
// across them); the handler lives in a module, since functions cannot cross
// into a worker. The main thread starts, watches and stops the workers.

import { SocketError } from "../errors.ts";
import type { Framing } from "../framing/types.ts";
import { checkCount, checkHostname, DEFAULT_HOSTNAME } from "../io/validate.ts";
import type { ServeOptions } from "./serve.ts";
import type { StreamSocket } from "./stream_socket.ts";
import {
  rebuilt,
  type ToMain,
  type ToWorker,
  type WorkerServeOptions,
} from "./worker_messages.ts";

/**
 * What a handler module exports by default for {@linkcode serveWorkers}: the
 * `serve` handler, and optionally the framing that types its sockets.
 *
 * @typeParam T The type of the sockets' frames.
 *
 * @example A handler module
 * ```ts
 * import { lengthPrefixed, type ServeModule } from "@wire/socket";
 * import { assertEquals } from "@std/assert";
 *
 * const echo = {
 *   framing: lengthPrefixed(),
 *   async handle(socket) {
 *     for await (const frame of socket.frames()) await socket.sendFrame(frame);
 *   },
 * } satisfies ServeModule<Uint8Array>;
 * assertEquals(typeof echo.handle, "function");
 * // export default echo; // in the module's own file
 * ```
 */
export interface ServeModule<T = Uint8Array> {
  /** The sockets' framing. @default {lengthPrefixed()} */
  framing?: Framing<T>;
  /** The communication loop for one client, as `serve`'s handler. */
  handle(socket: StreamSocket<T>): void | Promise<void>;
}

/** Options for {@linkcode serveWorkers}: those of `serve` over TCP or TLS, and how many workers. */
export interface ServeWorkersOptions
  extends Omit<ServeOptions, "framing" | "reusePort" | "onError"> {
  /**
   * How many workers listen, one per core.
   * @default {navigator.hardwareConcurrency}
   */
  workers?: number;
  /**
   * Called in the main thread with each error a handler throws in any
   * worker (rebuilt: its name, message, code and stack, with the worker's
   * number in the message), and when a worker dies; default: logged to
   * stderr.
   */
  onError?: (error: unknown) => void;
}

/** A worker and what is known of it. */
interface Member {
  worker: Worker;
  finished: PromiseWithResolvers<void>;
  /** Connections its handler took, and how many of those have ended. */
  served: number;
  handled: number;
  ended: boolean;
}

/** Makes a WorkerGroup: serveWorkers's alone (the constructor is private). */
let groupOf: (addr: Deno.NetAddr, members: Member[]) => WorkerGroup;

/**
 * Servers on every core: the workers {@linkcode serveWorkers} started, seen
 * as one server. `shutdown()` stops every worker's accepting at once and
 * resolves once every handler in every worker has returned.
 *
 * @example Two workers serving one port
 * ```ts ignore
 * import { serveWorkers } from "@wire/socket";
 *
 * const server = await serveWorkers(new URL("./echo_handler.ts", import.meta.url), {
 *   port: 9000,
 *   workers: 2,
 * });
 * Deno.addSignalListener("SIGINT", () => server.shutdown());
 * await server.finished;
 * ```
 */
export class WorkerGroup implements AsyncDisposable {
  /** The address every worker listens on. */
  readonly addr: Deno.NetAddr;
  readonly #members: Member[];
  readonly #finished: Promise<void>;
  #stopped: Promise<void> | undefined;

  static {
    groupOf = (addr, members) => new WorkerGroup(addr, members);
  }

  private constructor(addr: Deno.NetAddr, members: Member[]) {
    this.addr = addr;
    this.#members = members;
    this.#finished = Promise.all(members.map((m) => m.finished.promise))
      .then(() => {});
  }

  /** How many workers were started. */
  get workers(): number {
    return this.#members.length;
  }

  /**
   * How many connections each worker's handler has taken, by worker: as the
   * workers last reported (they report changes at most every 100 ms, and
   * exactly when they finish; a worker that died keeps its last report).
   */
  get served(): readonly number[] {
    return this.#members.map((member) => member.served);
  }

  /**
   * How many of those connections have ended (their handler returned), by
   * worker, reported as {@linkcode WorkerGroup.served} is.
   */
  get ended(): readonly number[] {
    return this.#members.map((member) => member.handled);
  }

  /** Resolves once every worker has stopped (finished or died). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /**
   * Stops accepting in every worker at once, then resolves when every
   * handler in every worker has returned (sockets still open after
   * `shutdownTimeout` ms are closed, as with `serve`).
   */
  shutdown(): Promise<void> {
    this.#stopped ??= (async () => {
      for (const member of this.#members) {
        if (!member.ended) post(member.worker, { type: "shutdown" });
      }
      await this.#finished;
    })();
    return this.#stopped;
  }

  /** Shuts down: what `await using` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

function post(worker: Worker, message: ToWorker): void {
  worker.postMessage(message);
}

/**
 * Serves a port on every core: starts `workers` workers, each running `serve`
 * with the handler module's default export ({@linkcode ServeModule}) on its
 * own `reusePort` listener of the same port; Linux balances new connections
 * across them. Every `serve` option keeps its meaning; `maxConnections`
 * bounds the whole server and is split evenly (the first
 * `maxConnections % workers` workers take one more; never more workers than
 * connections). A worker that dies is reported to `onError` and not
 * restarted; the others keep serving.
 *
 * Requires `allow-net` permission and `--unstable-net` (reusePort is an
 * unstable Deno API); workers have the main thread's permissions.
 *
 * @param module The handler module's URL (its default export is a {@linkcode ServeModule}).
 * @param options Where to listen, limits, `workers`, `signal`, `onError`.
 * @returns The running workers, once every one of them listens.
 * @throws {SocketError} `ENOSYS` off Linux (no port balancing: never a
 * server that silently uses one core) or without `--unstable-net`;
 * `EADDRINUSE` and the other errors of `listen`.
 * @throws {TypeError} The module has no `handle` function; a Unix `path`.
 *
 * @example Serving on every core
 * ```ts ignore
 * import { serveWorkers } from "@wire/socket";
 *
 * const server = await serveWorkers(new URL("./echo_handler.ts", import.meta.url), {
 *   port: 9000,
 *   workers: navigator.hardwareConcurrency,
 * });
 * await server.finished; // server.shutdown() or `signal` stop every worker
 * ```
 * @tags allow-net
 */
export async function serveWorkers(
  module: URL | string,
  options: ServeWorkersOptions = {},
): Promise<WorkerGroup> {
  const action = "serve workers";
  if (Deno.build.os !== "linux") {
    throw new SocketError(
      "ENOSYS",
      `Cannot ${action}: only Linux balances a port's connections across listeners (SO_REUSEPORT); on ${Deno.build.os} use serve()`,
    );
  }
  if (typeof Deno.listenDatagram !== "function") {
    throw new SocketError(
      "ENOSYS",
      `Cannot ${action}: reusePort is an unstable Deno API: run with the ` +
        '--unstable-net flag, or set "unstable": ["net"] in the deno.json ' +
        "of your project (a library's deno.json does not apply to your program)",
    );
  }
  if ((options as { path?: unknown }).path !== undefined) {
    throw new TypeError(
      `Cannot ${action}: a Unix socket path cannot be shared by workers; listen on a TCP port`,
    );
  }
  const { signal, onError, workers: wanted, maxConnections } = options;
  let count = checkCount(
    wanted ?? navigator.hardwareConcurrency,
    1,
    "workers",
    action,
  );
  if (maxConnections !== undefined) {
    checkCount(maxConnections, 1, "maxConnections", action);
    count = Math.min(count, maxConnections);
  }
  const hostname = checkHostname(options.hostname ?? DEFAULT_HOSTNAME, action);
  const report = (error: unknown) => {
    try {
      (onError ?? ((e) => console.error("serveWorkers:", e)))(error);
    } catch (failure) {
      console.error("serveWorkers: onError threw:", failure);
    }
  };
  const base: WorkerServeOptions = {
    hostname,
    port: options.port ?? 0,
    ...pick(options),
    ...(maxConnections === undefined ? {} : { maxConnections }),
  };
  const href = module instanceof URL ? module.href : module;
  checkReadable(href, action);
  const members: Member[] = [];
  try {
    // The first worker picks the port when asked for 0; the others join it.
    const first = await start(0, href, share(base, 0, count), report);
    members.push(first.member);
    const port = first.port;
    const rest = await Promise.allSettled(
      Array.from(
        { length: count - 1 },
        (_, i) =>
          start(i + 1, href, { ...share(base, i + 1, count), port }, report),
      ),
    );
    for (const result of rest) {
      if (result.status === "fulfilled") members.push(result.value.member);
    }
    const failed = rest.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const group = groupOf({ transport: "tcp", hostname, port }, members);
    if (signal?.aborted) void group.shutdown();
    else {signal?.addEventListener("abort", () => group.shutdown(), {
        once: true,
      });}
    return group;
  } catch (error) {
    for (const member of members) member.worker.terminate();
    throw error;
  }
}

/**
 * Workers load their code as files (this library's and the handler
 * module's), which takes read permission, unlike the main module: without
 * it each worker would die at start with the runtime's message. Says which
 * grant is missing, before any worker starts.
 */
function checkReadable(module: string, action: string): void {
  const needed = [new URL("../", import.meta.url), new URL(module)]
    .filter((url) => url.protocol === "file:")
    .map((url) => decodeURIComponent(url.pathname));
  const missing = needed.filter((path) =>
    Deno.permissions.querySync({ name: "read", path }).state !== "granted"
  );
  if (missing.length > 0) {
    throw new SocketError(
      "EPERM",
      `Cannot ${action}: workers load their code from files, which needs read permission: run with --allow-read=${
        missing.join(",")
      }`,
    );
  }
}

/** The serve options that cross into a worker. */
function pick(options: ServeWorkersOptions): Partial<WorkerServeOptions> {
  const keys = [
    "backlog",
    "tls",
    "handshakeTimeout",
    "highWaterMark",
    "idleTimeout",
    "shutdownTimeout",
  ] as const;
  const picked: Record<string, unknown> = {};
  for (const key of keys) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked as Partial<WorkerServeOptions>;
}

/** Worker `index`'s share of `maxConnections`. */
function share(
  base: WorkerServeOptions,
  index: number,
  count: number,
): WorkerServeOptions {
  const max = base.maxConnections;
  if (max === undefined) return base;
  const each = Math.floor(max / count) + (index < max % count ? 1 : 0);
  return { ...base, maxConnections: each };
}

/** Starts worker `index` and resolves once it listens, with its port. */
function start(
  index: number,
  module: string,
  options: WorkerServeOptions,
  report: (error: unknown) => void,
): Promise<{ member: Member; port: number }> {
  const worker = new Worker(new URL("./serve_worker.ts", import.meta.url), {
    type: "module",
  });
  const member: Member = {
    worker,
    finished: Promise.withResolvers<void>(),
    served: 0,
    handled: 0,
    ended: false,
  };
  const end = () => {
    if (member.ended) return;
    member.ended = true;
    worker.terminate();
    member.finished.resolve();
  };
  const listening = Promise.withResolvers<{ member: Member; port: number }>();
  let started = false;
  worker.onmessage = ({ data }: MessageEvent<ToMain>) => {
    switch (data.type) {
      case "listening":
        started = true;
        return listening.resolve({ member, port: data.port });
      case "failed":
        end();
        return listening.reject(rebuilt(data.error, index));
      case "error":
        return report(rebuilt(data.error, index));
      case "counts":
        member.served = data.served;
        member.handled = data.ended;
        return;
      case "finished":
        member.served = data.served;
        member.handled = data.ended;
        return end();
    }
  };
  worker.onerror = (event) => {
    // A worker that died: reported here instead of ending the main thread.
    event.preventDefault();
    const error = new Error(`worker ${index} died: ${event.message}`);
    end();
    if (started) report(error);
    else listening.reject(error);
  };
  post(worker, { type: "start", module, options });
  return listening.promise;
}
