// The handler module of bench:net's workers case: the concurrency case's
// echo, as every serveWorkers worker runs it.

import type { ServeModule } from "../mod.ts";

export default {
  async handle(socket) {
    for await (const frame of socket.frames()) await socket.sendFrame(frame);
  },
} satisfies ServeModule<Uint8Array>;
