// Tests of io/validate.ts: arguments checked before any I/O.

import { bindUdp, connect, listen, serve, tryConnect } from "../../mod.ts";
import {
  assertEquals,
  assertRejects,
  assertThrows,
} from "../_helpers/assert.ts";
import { closedPort } from "../_helpers/sockets.ts";

Deno.test("hostname: an empty or non-string hostname is a TypeError before any I/O, for every entry point", async () => {
  for (const hostname of ["", 42, null]) {
    const options = { hostname: hostname as string, port: 9 };
    await assertRejects(() => connect(options), TypeError);
    await assertRejects(() => tryConnect(options), TypeError);
    assertThrows(() => listen({ hostname: hostname as string }), TypeError);
    assertThrows(
      () => serve({ hostname: hostname as string }, () => {}),
      TypeError,
    );
    assertThrows(() => bindUdp({ hostname: hostname as string }), TypeError);
  }
  using udp = bindUdp();
  await assertRejects(
    () => udp.sendTo("x", { hostname: "", port: 9 }),
    TypeError,
  );
});

Deno.test("timeouts: negative or NaN durations are a RangeError before any I/O", async () => {
  await assertRejects(
    () => connect({ port: closedPort(), timeout: -1 }),
    RangeError,
  );
  assertThrows(
    () => serve({ port: 0, idleTimeout: NaN }, () => {}),
    RangeError,
  );
  assertThrows(
    () => serve({ port: 0, shutdownTimeout: -5 }, () => {}),
    RangeError,
  );
  assertThrows(
    () => serve({ port: 0, maxConnections: 1.5 }, () => {}),
    RangeError,
  );
  await using server = listen();
  await using client = await connect({ port: server.addr.port });
  await using _peer = await server.accept();
  assertThrows(() => client.timeout = -1, RangeError);
  assertThrows(() => client.idleTimeout = NaN, RangeError);
  client.timeout = 0; // zero is allowed: fail at once unless ready
  assertEquals(client.timeout, 0);
});
