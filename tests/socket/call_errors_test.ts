// First contact (issue #23): a wrong argument fails at the call, before any
// I/O, with a TypeError (a RangeError for a number out of range) that names
// the option, in one style: "Cannot <action>: <name> must be <rule>, got
// <value>". Each test also shows that nothing was opened: the port or the
// listener is untouched afterwards.

import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { delay, isPending, rejection } from "../_helpers/async.ts";
import { CA_CERT } from "../_helpers/transports.ts";
import {
  bindUdp,
  connect,
  delimited,
  listen,
  serve,
  tryConnect,
} from "../../mod.ts";

/** A TCP port that was free a moment ago (nothing listens on it). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Calls `open` and returns what it threw (or undefined). */
function thrown(open: () => unknown): unknown {
  try {
    const server = open() as { close?: () => void } | undefined;
    server?.close?.();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The port is free: a listener can take it. */
function assertPortFree(port: number): void {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  listener.close();
}

Deno.test("serve without a handler is a TypeError naming it, and nothing listens", () => {
  const port = freePort();
  for (const handler of [undefined, null, "echo", {}]) {
    const error = thrown(() =>
      serve({ port }, handler as unknown as () => void)
    );
    assertInstanceOf(error, TypeError);
    assertStringIncludes(
      error.message,
      "Cannot serve: handler must be a function, got ",
    );
  }
  assertEquals(
    (thrown(() => serve({ port }, undefined as unknown as () => void)) as Error)
      .message,
    "Cannot serve: handler must be a function, got undefined",
  );
  assertPortFree(port);
});

Deno.test("framing that is not a framing is a TypeError at connect, tryConnect, listen and serve", async () => {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = raw.accept();
  const { port } = raw.addr;
  const bad: unknown[] = [
    "lines",
    delimited, // the function, not called
    { decode: () => null }, // no encode
    { encode: () => new Uint8Array(0), decode: "x" },
    null,
    42,
  ];
  for (const framing of bad) {
    const options = { port, framing } as unknown as { port: number };
    for (const open of [() => connect(options), () => tryConnect(options)]) {
      const error = await rejection(open());
      assertInstanceOf(error, TypeError);
      assertStringIncludes(
        error.message,
        "Cannot connect: framing must be a framing (an object with encode and decode functions), got ",
      );
    }
    const listenError = thrown(() => listen({ port: 0, framing } as never));
    assertInstanceOf(listenError, TypeError);
    assertStringIncludes(listenError.message, "framing must be a framing");
    const serveError = thrown(() =>
      serve({ port: 0, framing } as never, () => {})
    );
    assertInstanceOf(serveError, TypeError);
    assertStringIncludes(serveError.message, "framing must be a framing");
  }
  const lines = await rejection(
    connect({ port, framing: "lines" } as unknown as { port: number }),
  );
  assertStringIncludes(
    (lines as Error).message,
    'got "lines" (a framing is made by a function such as delimited()',
  );
  const uncalled = await rejection(
    connect({ port, framing: delimited } as unknown as { port: number }),
  );
  assertStringIncludes(
    (uncalled as Error).message,
    "(call the function to make one: delimited(), not delimited)",
  );
  // No connect reached the listener.
  await delay(50);
  assert(await isPending(accepting), "a connection was opened");
  raw.close();
  await accepting.catch(() => {});
});

Deno.test("connect and tryConnect: options of the wrong type are TypeErrors naming them; out-of-range numbers stay RangeErrors", async () => {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = raw.accept();
  const { port } = raw.addr;
  const cases: [Record<string, unknown>, string][] = [
    [
      { timeout: "100" },
      'Cannot connect: timeout must be a non-negative number of milliseconds or undefined, got "100"',
    ],
    [
      { signal: {} },
      "Cannot connect: signal must be an AbortSignal or undefined, got object",
    ],
    [
      { signal: new AbortController() },
      "Cannot connect: signal must be an AbortSignal or undefined, got object",
    ],
    [
      { highWaterMark: "1mb" },
      'Cannot connect: highWaterMark must be a positive number, got "1mb"',
    ],
    [
      { port: "9000" },
      'Cannot connect: port must be an integer from 1 to 65535, got "9000"',
    ],
  ];
  for (const [bad, message] of cases) {
    const options = { port, ...bad } as unknown as { port: number };
    for (const open of [() => connect(options), () => tryConnect(options)]) {
      const error = await rejection(open());
      assertInstanceOf(error, TypeError);
      assertEquals(error.message, message);
    }
  }
  const notObject = await rejection(connect(9000 as never));
  assertInstanceOf(notObject, TypeError);
  assertEquals(
    notObject.message,
    "Cannot connect: options must be an object, got 9000",
  );
  // A number out of range keeps its RangeError and its message.
  const range = await rejection(connect({ port, timeout: -1 }));
  assertInstanceOf(range, RangeError);
  assertEquals(
    range.message,
    "Cannot connect: timeout must be a non-negative number of milliseconds or undefined, got -1",
  );
  await delay(50);
  assert(await isPending(accepting), "a connection was opened");
  raw.close();
  await accepting.catch(() => {});
});

Deno.test("listen and serve: options of the wrong type are TypeErrors naming them, and the port stays free", () => {
  const port = freePort();
  const listenCases: [Record<string, unknown>, string][] = [
    [
      { reusePort: "yes" },
      'Cannot listen: reusePort must be true, false or undefined, got "yes"',
    ],
    [
      { backlog: "128" },
      'Cannot listen: backlog must be an integer of at least 0, got "128"',
    ],
    [
      { handshakeTimeout: "10s" },
      'Cannot listen: handshakeTimeout must be a non-negative number of milliseconds or undefined, got "10s"',
    ],
    [
      { highWaterMark: null },
      "Cannot listen: highWaterMark must be a positive number, got null",
    ],
  ];
  for (const [bad, message] of listenCases) {
    for (
      const open of [
        () => listen({ port, ...bad } as never),
        () => serve({ port, ...bad } as never, () => {}),
      ]
    ) {
      const error = thrown(open);
      assertInstanceOf(error, TypeError);
      assertEquals(error.message, message);
    }
  }
  const serveCases: [Record<string, unknown>, string][] = [
    [
      { onError: "log" },
      'Cannot serve: onError must be a function, got "log"',
    ],
    [
      { signal: "stop" },
      'Cannot serve: signal must be an AbortSignal or undefined, got "stop"',
    ],
    [
      { idleTimeout: "30s" },
      'Cannot serve: idleTimeout must be a non-negative number of milliseconds or undefined, got "30s"',
    ],
    [
      { maxConnections: "10" },
      'Cannot serve: maxConnections must be an integer of at least 0, got "10"',
    ],
    [
      { shutdownTimeout: true },
      "Cannot serve: shutdownTimeout must be a non-negative number of milliseconds or undefined, got boolean",
    ],
  ];
  for (const [bad, message] of serveCases) {
    const error = thrown(() => serve({ port, ...bad } as never, () => {}));
    assertInstanceOf(error, TypeError);
    assertEquals(error.message, message);
  }
  const notObject = thrown(() => listen("127.0.0.1" as never));
  assertInstanceOf(notObject, TypeError);
  assertEquals(
    notObject.message,
    'Cannot listen: options must be an object, got "127.0.0.1"',
  );
  // Out of range: still a RangeError.
  assertInstanceOf(thrown(() => listen({ port, backlog: -1 })), RangeError);
  assertPortFree(port);
});

Deno.test("bindUdp: reuseAddress and loopback must be booleans; the port stays free", () => {
  using probe = bindUdp();
  const port = probe.addr.port;
  probe.close();
  for (const name of ["reuseAddress", "loopback"]) {
    const error = assertThrows(
      () => bindUdp({ port, [name]: "true" }),
      TypeError,
    );
    assertEquals(
      error.message,
      `Cannot bind UDP socket: ${name} must be true, false or undefined, got "true"`,
    );
  }
  assertEquals(
    assertThrows(() => bindUdp({ port: "53" as never }), TypeError).message,
    'Cannot bind UDP socket: port must be an integer from 0 to 65535, got "53"',
  );
  assertEquals(
    assertThrows(() => bindUdp(5353 as never), TypeError).message,
    "Cannot bind UDP socket: options must be an object, got 5353",
  );
  using again = bindUdp({ port });
  assertEquals(again.addr.port, port);
});

Deno.test("UdpSocket.recvFrom: a signal that is not an AbortSignal is a TypeError, and the socket keeps working", async () => {
  using a = bindUdp();
  using b = bindUdp();
  await assertRejects(
    () => b.recvFrom({ signal: "stop" as never }),
    TypeError,
    'Cannot receive datagram: signal must be an AbortSignal or undefined, got "stop"',
  );
  await a.sendTo("still here", b.addr);
  const { data } = await b.recvFrom({ timeout: 2000 });
  assertEquals(new TextDecoder().decode(data), "still here");
});

Deno.test("tls.caCerts given as a path is a TypeError saying it must be the file's contents, before connecting", async () => {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = raw.accept();
  const { port } = raw.addr;
  const path = "/etc/ssl/ca.pem";
  for (
    const open of [
      () => connect({ port, tls: { caCerts: [path] } }),
      () => tryConnect({ port, tls: { caCerts: [CA_CERT, path] } }),
    ]
  ) {
    const error = await rejection(open());
    assertInstanceOf(error, TypeError);
    assertStringIncludes(error.message, "tls.caCerts[");
    assertStringIncludes(
      error.message,
      "must be the certificate file's contents (PEM text with -----BEGIN CERTIFICATE-----), not its path",
    );
    assertStringIncludes(error.message, `"${path}"`);
  }
  await delay(50);
  assert(await isPending(accepting), "a connection was opened");
  raw.close();
  await accepting.catch(() => {});
});

Deno.test("startTls: caCerts given as a path is a TypeError naming caCerts; the plain socket stays usable", async () => {
  await using server = listen();
  await using client = await connect({ port: server.addr.port });
  await using peer = await server.accept();
  const error = await rejection(
    client.startTls({ caCerts: ["./tests/fixtures/ca.pem"] }),
  );
  assertInstanceOf(error, TypeError);
  assertEquals(
    error.message,
    'Cannot start TLS: caCerts[0] must be the certificate file\'s contents (PEM text with -----BEGIN CERTIFICATE-----), not its path; got "./tests/fixtures/ca.pem": read the file first, e.g. Deno.readTextFileSync(path)',
  );
  const signal = await rejection(client.startTls({ signal: 1 as never }));
  assertInstanceOf(signal, TypeError);
  // Nothing was upgraded: plaintext still flows.
  await client.send("plain");
  assertEquals(new TextDecoder().decode(await peer.recvExactly(5)), "plain");
});
