// What each serveWorkers worker runs: it imports the handler module, serves
// its share of the port (a reusePort listener of its own), and reports to the
// main thread: listening, each error a handler throws, and the end.

import { serve } from "./serve.ts";
import type { StreamSocket } from "./stream_socket.ts";
import type { ToMain, ToWorker } from "./worker_messages.ts";
import { reported } from "./worker_messages.ts";

const scope = globalThis as unknown as {
  postMessage(message: ToMain): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

let shutdown: (() => Promise<void>) | undefined;
let served = 0;
let ended = 0;
let reporting: ReturnType<typeof setTimeout> | undefined;

/** Tells the main thread the counts, at most every REPORT_MS (a message costs more than a handler's start). */
function countsChanged(): void {
  reporting ??= setTimeout(() => {
    reporting = undefined;
    scope.postMessage({ type: "counts", served, ended });
  }, REPORT_MS);
}
const REPORT_MS = 100;

scope.onmessage = async ({ data }) => {
  if (data.type === "shutdown") {
    await shutdown?.();
    clearTimeout(reporting);
    scope.postMessage({ type: "finished", served, ended });
    return;
  }
  try {
    const module = (await import(data.module)).default;
    if (typeof module?.handle !== "function") {
      throw new TypeError(
        `Cannot serve workers: the default export of ${data.module} must be an object with a handle(socket) function, got ${typeof module}`,
      );
    }
    const handle = module.handle.bind(module) as (
      socket: StreamSocket<unknown>,
    ) => void | Promise<void>;
    const server = serve({
      ...data.options,
      ...(module.framing === undefined ? {} : { framing: module.framing }),
      reusePort: true,
      onError: (error) =>
        scope.postMessage({ type: "error", error: reported(error) }),
    }, async (socket: StreamSocket<unknown>) => {
      served++;
      countsChanged();
      try {
        await handle(socket);
      } finally {
        ended++;
        countsChanged();
      }
    });
    shutdown = () => server.shutdown();
    scope.postMessage({ type: "listening", port: server.addr.port });
  } catch (error) {
    scope.postMessage({ type: "failed", error: reported(error) });
  }
};
