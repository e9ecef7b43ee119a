// A framed echo server on every core: `serveWorkers` starts one worker per
// core, each with its own listener on the same port (Linux balances new
// connections across them). This file is both the program and the handler
// module the workers run: its default export is the handler, and the
// program part runs only as the main module.
//
// Run: deno run --unstable-net --allow-net=127.0.0.1:9000 --allow-read=. examples/echo_workers.ts
//
// --unstable-net: reusePort is an unstable Deno API. --allow-read: workers
// load their code (this file and the library) from files. `--workers N`
// sets how many (default: one per core). Then, in another terminal:
// `deno task example:echo_client hello world`. Ctrl-C stops every worker and
// prints how many connections each one served.

import { lengthPrefixed, type ServeModule, serveWorkers } from "../mod.ts";
import { fail, parseCli, stopOnSigint, usageError } from "./_cli.ts";

/** What every worker runs: echoes every frame back to its sender. */
export default {
  framing: lengthPrefixed(),
  async handle(socket) {
    for await (const frame of socket.frames()) await socket.sendFrame(frame);
  },
} satisfies ServeModule<Uint8Array>;

const USAGE =
  `usage: echo_workers.ts [--host 127.0.0.1] [--port 9000] [--workers N]

A framed echo server (4-byte big-endian lengths) on every core: N workers,
one listener each on the same port. N defaults to the number of cores.`;

if (import.meta.main) {
  const args = parseCli(USAGE, {
    string: { workers: String(navigator.hardwareConcurrency) },
    maxArgs: 0,
  });
  const workers = Number(args.workers);
  if (!/^\d+$/.test(args.workers) || workers < 1) {
    usageError(
      USAGE,
      `--workers must be a whole number of at least 1, got ${args.workers}`,
    );
  }
  let server;
  try {
    server = await serveWorkers(import.meta.url, {
      hostname: args.host,
      port: args.port,
      workers,
      shutdownTimeout: 1000,
    });
  } catch (error) {
    fail(error);
  }
  console.log(
    `echo server on ${server.addr.hostname}:${server.addr.port}, ${server.workers} workers (Ctrl-C to stop)`,
  );
  stopOnSigint(server);
  await server.finished;
  console.log(`connections served per worker: ${server.served.join(", ")}`);
}
