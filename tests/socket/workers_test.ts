// serveWorkers: one port served by several workers (reusePort listeners,
// balanced by Linux), the handler in a module; errors, deaths, shutdown and
// the permissions a worker needs.

import {
  connect,
  serveWorkers,
  SocketError,
  type StreamSocket,
} from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertLessOrEqual,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { delay, rejection } from "../_helpers/async.ts";
import { text, utf8 } from "../_helpers/bytes.ts";

const HANDLERS = new URL("../fixtures/handlers/", import.meta.url);

/** Opens `n` clients that each echo `message` once, and closes them. */
async function echoClients(port: number, n: number, message = "ping") {
  const clients: StreamSocket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const client = await connect({ port, timeout: 5000 });
      clients.push(client);
      client.timeout = 5000;
      await client.sendFrame(utf8(message));
      assertEquals(text((await client.recvFrame())!), message);
    }
  } finally {
    for (const client of clients) client.close();
  }
}

Deno.test("serveWorkers: connections spread over every worker, each served", async () => {
  const server = await serveWorkers(new URL("echo.ts", HANDLERS), {
    workers: 2,
  });
  assertEquals(server.workers, 2);
  await echoClients(server.addr.port, 40);
  await server.shutdown();
  const served = server.served;
  assertEquals(served.length, 2);
  assertEquals(served[0] + served[1], 40);
  for (const count of served) assertGreater(count, 0, `served: ${served}`);
});

Deno.test("serveWorkers: the module's framing types the sockets; workers: 1 is serve() in a worker", async () => {
  await using server = await serveWorkers(new URL("lines.ts", HANDLERS), {
    workers: 1,
  });
  await using client = await connect({ port: server.addr.port });
  await client.send("hello\nworkers\n");
  assertEquals(
    new TextDecoder().decode(await client.recvExactly(14)),
    "HELLO\nWORKERS\n",
  );
});

Deno.test("serveWorkers: shutdown ends the handlers still running in every worker", async () => {
  const server = await serveWorkers(new URL("hold.ts", HANDLERS), {
    workers: 2,
    shutdownTimeout: 100,
  });
  const clients: StreamSocket[] = [];
  for (let i = 0; i < 20; i++) {
    const client = await connect({ port: server.addr.port, timeout: 5000 });
    assertEquals(text(await client.recvExactly(4, { timeout: 5000 })), "held");
    clients.push(client);
  }
  const started = Date.now();
  await server.shutdown();
  assertLessOrEqual(Date.now() - started, 3000);
  for (const count of server.served) {
    assertGreater(count, 0, `${server.served}`);
  }
  for (const client of clients) {
    // Each handler's socket was closed at the deadline: end of stream or reset.
    const end = await client.recv(16, { timeout: 5000 }).catch((e) => e);
    assert(end === null || end instanceof SocketError, String(end));
    client.close();
  }
});

Deno.test("serveWorkers: a handler that throws is reported in the main thread; the server keeps serving", async () => {
  const errors: unknown[] = [];
  await using server = await serveWorkers(new URL("echo.ts", HANDLERS), {
    workers: 2,
    onError: (error) => errors.push(error),
  });
  const client = await connect({ port: server.addr.port });
  await client.sendFrame(utf8("fail"));
  assertEquals(await client.recvFrame({ timeout: 5000 }), null);
  client.close();
  for (let i = 0; i < 100 && errors.length === 0; i++) await delay(10);
  assertEquals(errors.length, 1);
  const error = errors[0];
  assertInstanceOf(error, Error);
  assertStringIncludes(
    error.message,
    "the handler failed on purpose (in worker",
  );
  assertStringIncludes(error.stack ?? "", "handlers/echo.ts");
  await echoClients(server.addr.port, 4);
});

Deno.test("serveWorkers: a worker that dies is reported and the others keep serving", async () => {
  const errors: unknown[] = [];
  const server = await serveWorkers(new URL("echo.ts", HANDLERS), {
    workers: 2,
    onError: (error) => errors.push(error),
  });
  const victim = await connect({ port: server.addr.port });
  await victim.sendFrame(utf8("die"));
  await victim.recvFrame({ timeout: 5000 }).catch(() => null);
  for (let i = 0; i < 200 && errors.length === 0; i++) await delay(10);
  victim.close();
  assertEquals(errors.length, 1);
  assertStringIncludes(String((errors[0] as Error).message), "died");
  // The dead worker's listener is gone: every new connection is served.
  await echoClients(server.addr.port, 20);
  await server.shutdown();
  assertEquals(server.served.filter((n) => n > 0).length, 1);
});

Deno.test("serveWorkers: maxConnections bounds the whole server, split over the workers", async () => {
  await using server = await serveWorkers(new URL("hold.ts", HANDLERS), {
    workers: 2,
    maxConnections: 2,
    shutdownTimeout: 100,
  });
  const clients = await Promise.all(
    Array.from({ length: 8 }, () => connect({ port: server.addr.port })),
  );
  let held = 0;
  for (const client of clients) {
    const got = await client.recv(4, { timeout: 2000 }).catch(() => null);
    if (got !== null && text(got) === "held") held++;
  }
  for (const client of clients) client.close();
  assertGreater(held, 0);
  assertLessOrEqual(held, 2);
});

Deno.test("serveWorkers: a module without a handle function is a TypeError at the call", async () => {
  const error = await rejection(
    serveWorkers(new URL("no_handle.ts", HANDLERS), { workers: 2 }),
  );
  assertInstanceOf(error, TypeError);
  assertStringIncludes(
    error.message,
    "must be an object with a handle(socket) function",
  );
});

/** Runs a program that calls serveWorkers with the given flags, without deno.json. */
async function runProgram(
  flags: string[],
): Promise<{ code: number; stderr: string }> {
  const mod = new URL("../../mod.ts", import.meta.url).href;
  const handler = new URL("echo.ts", HANDLERS).href;
  const program = `
    import { serveWorkers } from ${JSON.stringify(mod)};
    try {
      const server = await serveWorkers(new URL(${
    JSON.stringify(handler)
  }), { workers: 2 });
      await server.shutdown();
      console.log("served");
    } catch (error) {
      console.error(error.code + ": " + error.message);
      Deno.exit(1);
    }`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", ...flags, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = output.stdin.getWriter();
  await writer.write(utf8(program));
  await writer.close();
  const { code, stdout, stderr } = await output.output();
  return {
    code,
    stderr: new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout),
  };
}

Deno.test("serveWorkers: the permissions a worker needs, named when missing", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const noFlag = await runProgram([
    `--allow-read=${root}`,
    "--allow-net=127.0.0.1",
  ]);
  assertEquals(noFlag.code, 1, noFlag.stderr);
  assertStringIncludes(
    noFlag.stderr,
    "ENOSYS: Cannot serve workers: reusePort is an unstable Deno API",
  );
  const noRead = await runProgram(["--unstable-net", "--allow-net=127.0.0.1"]);
  assertEquals(noRead.code, 1, noRead.stderr);
  assertStringIncludes(
    noRead.stderr,
    "EPERM: Cannot serve workers: workers load their code from files",
  );
  assertStringIncludes(noRead.stderr, `--allow-read=${root}`);
  const granted = await runProgram([
    "--unstable-net",
    `--allow-read=${root}`,
    "--allow-net=127.0.0.1",
  ]);
  assertEquals(granted.code, 0, granted.stderr);
  assertStringIncludes(granted.stderr, "served");
});
