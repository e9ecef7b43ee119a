// A worker of bench:net's workers case's raw variants: a reusePort listener
// of its own and the raw echo loop, as a hand-written server on every core
// would be; it tells the main thread its port, then each connection's end.

import { rawEcho } from "./net_peer.ts";

const scope = globalThis as unknown as {
  postMessage(message: { port: number } | { ended: number }): void;
  onmessage: ((event: MessageEvent<{ port: number }>) => void) | null;
};

scope.onmessage = ({ data }) => {
  const listener = Deno.listen({
    hostname: "127.0.0.1",
    port: data.port,
    reusePort: true,
  });
  scope.postMessage({ port: listener.addr.port });
  let ended = 0;
  (async () => {
    for await (const conn of listener) {
      rawEcho(conn).finally(() => {
        conn.close();
        scope.postMessage({ ended: ++ended });
      });
    }
  })();
};
