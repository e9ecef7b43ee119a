// UdpSocket.request against a scripted Python UDP server that drops, delays
// and duplicates its replies: the retry loop, its ETIMEDOUT, the replies it
// must not take (another sender's, a late reply to an earlier request), the
// abort, and call order with other receives.

import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertLess,
  assertRejects,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { type PythonPeer, runPython } from "../_helpers/python.ts";
import { within } from "../_helpers/async.ts";
import { bindUdp, type Datagram, SocketError } from "../../mod.ts";

// A UDP server written the way the tutorials write theirs
// (examples/tutorials/udp_server.py): bind, then recvfrom and sendto in a
// loop. Its script (argv[1]) says what to do with the n-th datagram it
// receives: "drop" it, "echo" it, echo it "twice", or echo it after a delay
// ("delay:MS"). It prints its port, then one line per datagram.
const SCRIPTED_SERVER = `
import socket, sys, threading
plan = sys.argv[1].split(',')
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(('127.0.0.1', 0))
print('port', server.getsockname()[1])
n = 0
while True:
    msg, addr = server.recvfrom(1024)
    action = plan[n] if n < len(plan) else 'echo'
    n += 1
    print('got', n, msg.decode(), action)
    if action == 'drop':
        continue
    if action.startswith('delay:'):
        seconds = int(action.split(':')[1]) / 1000
        threading.Timer(seconds, server.sendto, (msg, addr)).start()
        continue
    server.sendto(msg, addr)
    if action == 'twice':
        server.sendto(msg, addr)
`;

/** Starts the scripted server; resolves with it and its port. */
async function scriptedServer(
  plan: string[],
): Promise<{ peer: PythonPeer; port: number }> {
  const peer = runPython(SCRIPTED_SERVER, plan.join(","));
  const line = await within(peer.readLine(), 10_000, "the server's port");
  const port = Number(line.split(" ")[1]);
  assert(port > 0, line);
  return { peer, port };
}

/** The datagrams the server reported receiving (as "n payload action"). */
async function received(peer: PythonPeer, count: number): Promise<string[]> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(
      (await within(peer.readLine(), 10_000, `line ${i + 1}`)).slice(4),
    );
  }
  return lines;
}

const text = (datagram: Datagram) => new TextDecoder().decode(datagram.data);
/** Replies carry the request's id before the colon. */
const sameId = (reply: Datagram, request: Uint8Array) =>
  text(reply).split(":")[0] === new TextDecoder().decode(request).split(":")[0];

Deno.test("request: a dropped try is sent again; a late reply and a duplicate of request 2 are not taken for request 3's answer (match by id)", async () => {
  const { peer, port } = await scriptedServer([
    "drop", // request 1, try 1
    "echo", // request 1, try 2
    "delay:300", // request 2, try 1: answered after request 2 has resent
    "twice", // request 2, try 2: answered twice
    "delay:500", // request 3: answered after the stale copies arrived
  ]);
  await using _server = peer;
  using client = bindUdp();
  const to = { hostname: "127.0.0.1", port };
  const options = { timeout: 100, tries: 3, match: sameId };

  const first = await client.request("1:one", to, options);
  assertEquals(text(first), "1:one");
  assertEquals(first.addr.port, port);
  const second = await client.request("2:two", to, options);
  assertEquals(text(second), "2:two");
  const started = Date.now();
  const third = await client.request("3:three", to, {
    ...options,
    timeout: 2000,
  });
  // Two copies of "2:two" arrived while request 3 waited; its own reply
  // came 500 ms after it was sent.
  assertEquals(text(third), "3:three");
  assertGreaterOrEqual(Date.now() - started, 400);
  assertEquals(await received(peer, 5), [
    "1 1:one drop",
    "2 1:one echo",
    "3 2:two delay:300",
    "4 2:two twice",
    "5 3:three delay:500",
  ]);
  // The replies match rejected stay for other receives: both copies of 2.
  const left = [
    text(await client.recvFrom({ timeout: 1000 })),
    text(await client.recvFrom({ timeout: 1000 })),
  ];
  assertEquals(left, ["2:two", "2:two"]);
});

Deno.test("request: without match, a copy of an earlier answer owed to its first try is dropped, not taken for the next request's", async () => {
  const { peer, port } = await scriptedServer([
    "delay:300", // "a", try 1: its echo arrives while "b" waits
    "echo", // "a", try 2
    "delay:600", // "b": answered after the late "a"
  ]);
  await using _server = peer;
  using client = bindUdp();
  const to = { hostname: "127.0.0.1", port };
  const a = await client.request("a", to, { timeout: 100 });
  assertEquals(text(a), "a");
  const b = await client.request("b", to, { timeout: 2000 });
  assertEquals(text(b), "b");
  assertEquals(await received(peer, 3), [
    "1 a delay:300",
    "2 a echo",
    "3 b delay:600",
  ]);
  // The late "a" was dropped, not kept: nothing is left to receive.
  await assertRejects(
    () => client.recvFrom({ timeout: 100 }),
    SocketError,
    "timed out",
  );
});

Deno.test("request: after the last try it fails with ETIMEDOUT, having sent every try with growing waits", async () => {
  const { peer, port } = await scriptedServer(["drop", "drop", "drop"]);
  await using _server = peer;
  using client = bindUdp();
  const started = Date.now();
  const error = await assertRejects(
    () =>
      client.request("hello?", { hostname: "127.0.0.1", port }, {
        timeout: 50,
        tries: 3,
        backoff: 2,
      }),
    SocketError,
  );
  const elapsed = Date.now() - started;
  assertEquals(error.code, "ETIMEDOUT");
  assertEquals(
    error.message,
    `Cannot request from 127.0.0.1:${port}: no reply after 3 tries (waited 50 + 100 + 200 ms)`,
  );
  assertGreaterOrEqual(elapsed, 340);
  assertLess(elapsed, 5000);
  assertEquals(await received(peer, 3), [
    "1 hello? drop",
    "2 hello? drop",
    "3 hello? drop",
  ]);
});

Deno.test("request: a datagram from another address is not the reply and stays for recvFrom", async () => {
  using server = bindUdp();
  using stranger = bindUdp();
  using client = bindUdp();
  const serving = (async () => {
    const { data, addr } = await server.recvFrom({ timeout: 5000 });
    await stranger.sendTo("not the reply", addr);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.sendTo(data, addr);
  })();
  const reply = await client.request("ping", server.addr, { timeout: 2000 });
  assertEquals(text(reply), "ping");
  assertEquals(reply.addr.port, server.addr.port);
  await serving;
  const other = await client.recvFrom({ timeout: 1000 });
  assertEquals(text(other), "not the reply");
  assertEquals(other.addr.port, stranger.addr.port);
});

Deno.test("request: aborting the signal ends it with ECANCELED, the reason as cause", async () => {
  const { peer, port } = await scriptedServer(["drop"]);
  await using _server = peer;
  using client = bindUdp();
  const controller = new AbortController();
  const reason = new Error("user gave up");
  setTimeout(() => controller.abort(reason), 80);
  const started = Date.now();
  const error = await assertRejects(
    () =>
      client.request("x", { hostname: "127.0.0.1", port }, {
        timeout: 1000,
        signal: controller.signal,
      }),
    SocketError,
  );
  assertEquals(error.code, "ECANCELED");
  assertEquals(error.cause, reason);
  assertLess(Date.now() - started, 900);
  // The socket still works.
  const reply = await client.request("y", { hostname: "127.0.0.1", port }, {
    timeout: 1000,
  });
  assertEquals(text(reply), "y");
});

Deno.test("request: receives keep their call order: a recvFrom called first gets the first datagram, the request resends and gets its own", async () => {
  const { peer, port } = await scriptedServer(["echo", "echo"]);
  await using _server = peer;
  using client = bindUdp();
  const earlier = client.recvFrom({ timeout: 5000 });
  const reply = await client.request("q", { hostname: "127.0.0.1", port }, {
    timeout: 200,
  });
  // The first echo went to the receive that was called first.
  assertEquals(text(await earlier), "q");
  assertEquals(text(reply), "q");
  assertEquals(await received(peer, 2), ["1 q echo", "2 q echo"]);
  // A recvFrom called after a waiting request gets what the request leaves.
  using stranger = bindUdp();
  const pending = client.request("r", { hostname: "127.0.0.1", port }, {
    timeout: 2000,
  });
  const later = client.recvFrom({ timeout: 5000 });
  await stranger.sendTo("for the later receive", client.addr);
  assertEquals(text(await pending), "r");
  assertEquals(text(await later), "for the later receive");
});

Deno.test("request: close() ends a waiting request with ECLOSED; bad options are errors before sending", async () => {
  using server = bindUdp();
  const client = bindUdp();
  const pending = client.request("x", server.addr, { timeout: 5000 });
  await server.recvFrom({ timeout: 5000 });
  client.close();
  const error = await assertRejects(() => pending, SocketError);
  assertEquals(error.code, "ECLOSED");
  using other = bindUdp();
  const cases: [unknown, ErrorConstructor | RangeErrorConstructor, string][] = [
    [{ tries: 0 }, RangeError, "tries must be an integer from 1 to 100"],
    [{ backoff: 0.5 }, RangeError, "backoff must be a number of at least 1"],
    [{ timeout: "1s" }, TypeError, "timeout must be a positive number"],
    [{ match: true }, TypeError, "match must be a function, got boolean"],
  ];
  for (const [options, type, message] of cases) {
    const rejected = await assertRejects(
      () => other.request("x", server.addr, options as never),
      type,
    );
    assertStringIncludes(rejected.message, `Cannot send request: ${message}`);
  }
  const named = await assertRejects(
    () => other.request("x", { hostname: "example.com", port: 53 }),
    TypeError,
  );
  assertStringIncludes(named.message, "is not an IP address");
  // None of them reached the server.
  await assertRejects(() => server.recvFrom({ timeout: 100 }), SocketError);
});
