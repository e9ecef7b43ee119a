// The messages between serveWorkers and its workers, and errors in a form
// that crosses the boundary (an Error's class does not survive a
// postMessage; its name, message, code and stack do).

import { SocketError, type SocketErrorCode } from "../errors.ts";

/** The serve options a worker gets: what survives structured cloning. */
export interface WorkerServeOptions {
  hostname?: string;
  port: number;
  backlog?: number;
  tls?: { cert: string; key: string; alpnProtocols?: string[] };
  handshakeTimeout?: number;
  highWaterMark?: number;
  idleTimeout?: number;
  maxConnections?: number;
  shutdownTimeout?: number;
}

/** From the main thread to a worker. */
export type ToWorker =
  | { type: "start"; module: string; options: WorkerServeOptions }
  | { type: "shutdown" };

/** An error as it crosses to the main thread. */
export interface ReportedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** From a worker to the main thread. */
export type ToMain =
  | { type: "listening"; port: number }
  | { type: "failed"; error: ReportedError }
  | { type: "error"; error: ReportedError }
  | { type: "counts"; served: number; ended: number }
  | { type: "finished"; served: number; ended: number };

/** `error` as it can cross to the main thread. */
export function reported(error: unknown): ReportedError {
  if (!(error instanceof Error)) {
    return { name: "Error", message: String(error) };
  }
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === "string" ? { code } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

/** The error a worker reported, rebuilt: a SocketError keeps its class and code. */
export function rebuilt(error: ReportedError, worker: number): Error {
  const message = `${error.message} (in worker ${worker})`;
  const rebuilt = error.name === "SocketError" && error.code !== undefined
    ? new SocketError(error.code as SocketErrorCode, message)
    : error.name === "TypeError"
    ? new TypeError(message)
    : error.name === "RangeError"
    ? new RangeError(message)
    : new Error(message);
  if (error.name !== rebuilt.name) rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = error.stack;
  return rebuilt;
}
