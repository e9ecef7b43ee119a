// Ctrl-C (SIGINT): close what is open, cleanly, then exit with status 0.
// Commands register what must be closed; a second Ctrl-C exits at once.

type Cleanup = () => unknown;

const cleanups = new Set<Cleanup>();
/** How long closing may take before the tool exits anyway. */
const CLOSE_LIMIT_MS = 3000;

/** Runs `cleanup` on Ctrl-C; the returned function unregisters it. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Handles SIGINT from now on: close everything registered, then exit 0. */
export function exitOnInterrupt(log: (line: string) => void): void {
  const interrupted = async () => {
    Deno.removeSignalListener("SIGINT", interrupted);
    log("interrupted: closing");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, CLOSE_LIMIT_MS);
    });
    const closing = Promise.allSettled(
      [...cleanups].map(async (c) => await c()),
    );
    await Promise.race([closing, late]);
    clearTimeout(timer);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", interrupted);
}
