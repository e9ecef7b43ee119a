// connect and listen against real peers: netcat-openbsd, Python socket and
// ssl servers, and wire itself over a Unix socket; UDP against Python.
// Network failures exit 1 with the message and code; Ctrl-C exits 0.

import { runPython } from "../_helpers/python.ts";
import { FIXTURE_PATHS, socketPath } from "../_helpers/transports.ts";
import { assertEquals, assertStringIncludes } from "../_helpers/assert.ts";
import { PY_ECHO } from "../_helpers/cli_peers.ts";
import { NET, netcat, unixFlags, Wire, wire } from "../_helpers/wire.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("wire connect talks to nc -l both ways and ends with it", async () => {
  await using port = new Wire(NET, ["listen", "127.0.0.1:0"]);
  const free = await port.port(); // a port wire found free, then released
  port.kill("SIGINT");
  assertEquals(await port.exit(), 0);
  const nc = netcat(["-l", "127.0.0.1", String(free)]);
  const writer = nc.stdin.getWriter();
  await writer.write(new TextEncoder().encode("from nc\n"));
  await writer.close();
  let run;
  for (let attempt = 0; attempt < 50; attempt++) {
    run = await wire(NET, ["connect", `127.0.0.1:${free}`], "from wire\n");
    if (run.code === 0) break;
    await new Promise((r) => setTimeout(r, 100)); // nc not listening yet
  }
  const output = await nc.output();
  assertEquals(run!.code, 0, run!.stderr);
  assertEquals(run!.stdout, "from nc\n");
  assertEquals(decode(output.stdout), "from wire\n");
});

Deno.test("wire listen takes nc's connection; --format hex prints what came", async () => {
  await using listener = new Wire(NET, [
    "listen",
    "--format",
    "hex",
    "127.0.0.1:0",
  ]);
  const port = await listener.port();
  const nc = netcat(["-N", "127.0.0.1", String(port)]);
  const writer = nc.stdin.getWriter();
  await writer.write(new Uint8Array([0, 1, 255]));
  await writer.close();
  await nc.output();
  assertEquals(await listener.exit(), 0, listener.describe());
  assertEquals(listener.stdout, "0001ff\n");
});

Deno.test("wire connect --framing length:2 frames stdin's lines to a Python peer", async () => {
  await using peer = runPython(
    `
import socket, struct
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1])
conn, _ = srv.accept()
got = b""
while True:
    d = conn.recv(4096)
    if not d: break
    got += d
print(got.hex())
for word in (b"one", b"two"):
    conn.sendall(struct.pack("!H", len(word)) + word)
conn.close()
`,
  );
  const port = await peer.readLine();
  const run = await wire(
    NET,
    [
      "connect",
      "--framing",
      "length:2",
      "--format",
      "json",
      `127.0.0.1:${port}`,
    ],
    '"hi"\n{"text":"yo"}\n',
  );
  assertEquals(run.code, 0, run.stderr);
  assertEquals(await peer.readLine(), "0002686900027 96f".replace(" ", ""));
  assertEquals(
    run.stdout,
    '{"length":3,"text":"one"}\n{"length":3,"text":"two"}\n',
  );
});

Deno.test("wire connect --tls --ca talks to a Python ssl server", async () => {
  await using peer = runPython(
    PY_ECHO,
    "upper",
    FIXTURE_PATHS.cert,
    FIXTURE_PATHS.key,
  );
  const port = await peer.readLine();
  const run = await wire(
    [...NET, `--allow-read=${FIXTURE_PATHS.ca}`],
    [
      "connect",
      "--tls",
      "--ca",
      FIXTURE_PATHS.ca,
      "--framing",
      "lines",
      `localhost:${port}`,
    ],
    "secret\n",
  );
  assertEquals(run.code, 0, run.stderr);
  assertEquals(run.stdout, "SECRET\n");
});

Deno.test("wire connect --tls without the CA exits 1 with the error's code", async () => {
  await using peer = runPython(
    PY_ECHO,
    "echo",
    FIXTURE_PATHS.cert,
    FIXTURE_PATHS.key,
  );
  const port = await peer.readLine();
  const run = await wire(NET, ["connect", "--tls", `localhost:${port}`], "x\n");
  assertEquals(run.code, 1, run.stderr);
  assertStringIncludes(run.stderr, "(ECERT)");
});

Deno.test("wire listen and connect over a Unix socket (--path and unix:)", async () => {
  const path = socketPath(0);
  await using server = new Wire(unixFlags(path), [
    "listen",
    "--path",
    path,
    "--framing",
    "netstring",
  ], {
    stdin: "piped",
  });
  await server.waitFor(/listening on unix:/);
  await server.write("back\n");
  await server.closeStdin();
  const run = await wire(unixFlags(path), [
    "connect",
    "--framing",
    "netstring",
    `unix:${path}`,
  ], "there\n");
  assertEquals(run.code, 0, run.stderr);
  assertEquals(run.stdout, "back\n");
  assertEquals(await server.exit(), 0, server.describe());
  assertEquals(server.stdout, "there\n");
});

Deno.test("wire connect --udp sends lines as datagrams and prints the replies", async () => {
  await using peer = runPython(`
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
for _ in range(2):
    data, addr = s.recvfrom(65535)
    s.sendto(data.upper(), addr)
`);
  const port = await peer.readLine();
  const run = await wire(
    [...NET, "--unstable-net"],
    ["connect", "--udp", "--wait", "1000", `127.0.0.1:${port}`],
    "ping\npong\n",
  );
  assertEquals(run.code, 0, run.stderr);
  assertEquals(run.stdout, "PING\nPONG\n");
});

Deno.test("wire listen --udp prints datagrams until Ctrl-C, then exits 0", async () => {
  await using listener = new Wire([...NET, "--unstable-net"], [
    "listen",
    "--udp",
    "--format",
    "base64",
    "127.0.0.1:0",
  ]);
  const port = await listener.port();
  const socket = Deno.listenDatagram({
    hostname: "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  await socket.send(new Uint8Array([1, 2, 3]), {
    hostname: "127.0.0.1",
    port,
    transport: "udp",
  });
  await listener.waitFor(/AQID/, "stdout");
  socket.close();
  listener.kill("SIGINT");
  assertEquals(await listener.exit(), 0, listener.describe());
  assertStringIncludes(listener.stderr, "interrupted: closing");
});

Deno.test("wire connect to a closed port exits 1 with the message and code", async () => {
  const free = (() => {
    using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return l.addr.port;
  })();
  const run = await wire(NET, ["connect", `127.0.0.1:${free}`]);
  assertEquals(run.code, 1);
  assertStringIncludes(run.stderr, "Connection refused");
  assertStringIncludes(run.stderr, "(ECONNREFUSED)");
});

Deno.test("wire without --allow-net for the address exits 1 naming the permission", async () => {
  const run = await wire(["--no-prompt", "--allow-net=127.0.0.1:1"], [
    "connect",
    "127.0.0.1:2",
  ]);
  assertEquals(run.code, 1, run.stderr);
  assertStringIncludes(run.stderr, "--allow-net");
});

Deno.test("wire: Ctrl-C during a TCP session closes it cleanly and exits 0", async () => {
  await using peer = runPython(PY_ECHO);
  const port = await peer.readLine();
  await using session = new Wire(NET, [
    "connect",
    "--framing",
    "lines",
    `127.0.0.1:${port}`,
  ], { stdin: "piped" });
  await session.write("still here\n");
  await session.waitFor(/still here/, "stdout");
  session.kill("SIGINT");
  assertEquals(await session.exit(), 0, session.describe());
  assertStringIncludes(session.stderr, "interrupted: closing");
});
