// A TLS echo server as a program of its own, for tests that run it under a
// lowered descriptor limit (prlimit --nofile=N): argv[0] is maxConnections.
// It prints its port, serves until its stdin ends, then shuts down.
//
//   prlimit --nofile=64 deno run --allow-net=127.0.0.1 \
//     --allow-read=tests/fixtures tests/_tls_server_program.ts 30

import { serve } from "../../mod.ts";

const fixtures = new URL("../fixtures/", import.meta.url);
const server = serve({
  port: 0,
  tls: {
    cert: Deno.readTextFileSync(new URL("localhost.pem", fixtures)),
    key: Deno.readTextFileSync(new URL("localhost.key", fixtures)),
  },
  maxConnections: Number(Deno.args[0]),
  handshakeTimeout: 300,
  backlog: 1024,
  onError: (error) => console.error("onError:", error),
}, async (socket) => {
  for await (const frame of socket.frames()) await socket.sendFrame(frame);
});
console.log(server.addr.port);
for await (const _ of Deno.stdin.readable) { /* until stdin ends */ }
await server.shutdown();
