// Talking to Python peers written the way socket tutorials write them:
// `struct.pack("i", len(data)) + data` headers (native byte order: little-
// endian on x86 and ARM), `sendall`, a `recv` loop, and the "header dict +
// file content" transfer.

import { connect, lengthPrefixed, listen, message, serve } from "../../mod.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { within } from "../_helpers/async.ts";
import { KiB, text, utf8 } from "../_helpers/bytes.ts";
import { runPython } from "../_helpers/python.ts";

const PYTHON_CLIENT = `
import socket, struct, sys

def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("server closed early")
        data += chunk
    return data

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect(("127.0.0.1", int(sys.argv[1])))
for i in range(50):
    data = ("message %d " % i).encode() * (i + 1)
    client.sendall(struct.pack("i", len(data)) + data)
    header = recv_exactly(client, 4)
    length = struct.unpack("i", header)[0]
    reply = recv_exactly(client, length)
    assert reply == data.upper(), (i, reply)
    print(length)
client.close()
`;

Deno.test("interop: a tutorial-style Python client (struct.pack('i'), sendall, recv loop) talks to serve()", async () => {
  const errors: unknown[] = [];
  const server = serve(
    {
      port: 0,
      framing: lengthPrefixed({ littleEndian: true }),
      onError: (error) => errors.push(error),
    },
    async (socket) => {
      for await (const frame of socket.frames()) {
        await socket.sendFrame(utf8(text(frame).toUpperCase()));
      }
    },
  );
  const python = runPython(PYTHON_CLIENT, `${server.addr.port}`);
  const { code, stdout, stderr } = await within(
    python.finish(),
    10_000,
    "the Python client",
  );
  await within(server.shutdown(), 5000, "shutdown");
  assertEquals(code, 0, stderr);
  const lengths = stdout.trim().split("\n").map(Number);
  assertEquals(lengths.length, 50);
  assertEquals(lengths[49], "message 49 ".length * 50);
  assertEquals(errors, []);
});

const PYTHON_SERVER = `
import json, socket, struct, sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(5)
print(server.getsockname()[1], flush=True)
conn, addr = server.accept()

def recv_exactly(n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data

count = 0
while True:  # the communication loop
    header = recv_exactly(4)
    if header is None:
        break
    (length,) = struct.unpack("i", header)
    data = recv_exactly(length)
    conn.sendall(struct.pack("i", len(data)) + data[::-1])
    count += 1

# Then a file the "header dict + content" way: big-endian header length.
content = bytes(range(256)) * 1024
head = json.dumps({"name": "data.bin", "size": len(content)}).encode()
conn.sendall(struct.pack("!I", len(head)) + head)
conn.sendall(content)
conn.close()
server.close()
print(count)
`;

Deno.test("interop: connect() talks to a tutorial-style Python server, then receives its file transfer", async () => {
  const python = runPython(PYTHON_SERVER);
  const port = Number(await within(python.readLine(), 10_000, "the port"));
  assert(port > 0, `Python printed port ${port}`);
  const client = await connect({
    port,
    framing: lengthPrefixed({ littleEndian: true }),
  });
  for (let i = 0; i < 20; i++) {
    const request = `request number ${i}`;
    await client.sendFrame(utf8(request));
    const reply = await within(client.recvFrame(), 5000, `reply ${i}`);
    assertEquals(text(reply!), [...request].reverse().join(""));
  }
  await client.closeWrite(); // The server's recv gets b"": its loop ends.
  const file = await within(client.recvFrame(message()), 5000, "the header");
  assertEquals(file!.header.name, "data.bin");
  assertEquals(file!.header.size, 256 * KiB);
  assertEquals(file!.body.length, 256 * KiB);
  for (let i = 0; i < file!.body.length; i += 4099) {
    assertEquals(file!.body[i], i & 255, `byte ${i}`);
  }
  assertEquals(await client.recv(), null);
  client.close();
  const { code, stdout, stderr } = await python.finish();
  assertEquals(code, 0, stderr);
  assertEquals(stdout.trim().split("\n").at(-1), "20");
});

Deno.test("interop: a Python client sending the 'header dict + file content' protocol to our server", async () => {
  await using server = listen();
  const python = runPython(
    `
import json, socket, struct, sys
content = b"0123456789" * 10000
head = json.dumps({"name": "upload.txt", "size": len(content)}).encode()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(struct.pack("!I", len(head)) + head + content)
s.sendall(struct.pack("!I", 2) + b"ok")
print(s.recv(100).decode())
s.close()
`,
    `${server.addr.port}`,
  );
  await using peer = await within(server.accept(), 5000, "the client");
  const upload = await peer.recvFrame(message());
  assertEquals(upload!.header, { name: "upload.txt", size: 100_000 });
  assertEquals(text(upload!.body.subarray(0, 12)), "012345678901");
  assertEquals(text((await peer.recvFrame())!), "ok");
  await peer.send("stored");
  const { code, stdout, stderr } = await python.finish();
  assertEquals(code, 0, stderr);
  assertEquals(stdout.trim(), "stored");
});
