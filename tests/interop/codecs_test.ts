// The codecs for other people's protocols, against Python peers that write
// those protocols by hand, the way a tutorial would (plain `socket`, `struct`):
// protobuf-style varint-delimited messages, netstrings, MySQL-style packets
// (3-byte little-endian length + sequence byte), and lines ending in a mix of
// "\n" and "\r\n". Each peer connects to our listener, sends its frames and
// half-closes; we read them with `frames()`/`recvFrame()` of a real socket
// over 127.0.0.1 and send each back with `sendFrame`; the peer parses our
// frames with its own reader and checks them.

import {
  delimited,
  type Framing,
  lengthField,
  listen,
  netstring,
  type TcpSocket,
  varintPrefixed,
} from "../../mod.ts";
import { assert, assertEquals, equals } from "../_helpers/assert.ts";
import { within } from "../_helpers/async.ts";
import { runPython } from "../_helpers/python.ts";

const decoder = new TextDecoder();

/** Payload `i` of `n` bytes: byte k is (i + k) % 256, as the Python peers make it. */
function payload(i: number, n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let k = 0; k < n; k++) bytes[k] = (i + k) & 255;
  return bytes;
}

/** The same in Python, fast for megabytes. */
const PY_PAYLOAD = `
def payload(i, n):
    reps = bytes(range(256)) * (n // 256 + 2)
    return reps[i % 256 : i % 256 + n]
`;

/** Reading from a socket until EOF, and exact reads, tutorial style. */
const PY_RECV = `
import socket, struct, sys

sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))

buffered = bytearray()
def recv_exactly(n):
    while len(buffered) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection early")
        buffered.extend(chunk)
    data = bytes(buffered[:n])
    del buffered[:n]
    return data

def at_eof():
    if buffered:
        return False
    chunk = sock.recv(65536)
    buffered.extend(chunk)
    return not chunk
`;

/**
 * Runs `python` (given our port), accepts its connection, hands the socket
 * to `serve` (which reads the peer's frames and answers), and returns what the
 * peer printed once it has exited successfully.
 */
async function withPythonPeer(
  python: string,
  serve: (socket: TcpSocket) => Promise<void>,
): Promise<string> {
  await using server = listen();
  await using peer = runPython(python, String(server.addr.port));
  {
    await using socket = await within(server.accept(), 10_000, "the peer");
    socket.timeout = 10_000; // each receive: a stuck peer fails, never hangs
    await serve(socket);
    await socket.closeWrite();
  }
  const { code, stdout, stderr } = await within(
    peer.finish(),
    30_000,
    "the peer's exit",
  );
  assertEquals(code, 0, stderr);
  return stdout.trim();
}

/** Reads every frame until the peer half-closes, echoing each back. */
async function echoAll(
  socket: TcpSocket,
  framing: Framing<Uint8Array>,
): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const frame of socket.frames(framing)) {
    frames.push(frame);
    await socket.sendFrame(frame, framing);
  }
  return frames;
}

Deno.test("interop: a Python protobuf-style varint writer (writeDelimitedTo) and reader, varintPrefixed()", async () => {
  // The sizes where the varint grows a byte: 127/128, 16383/16384, 2^21.
  const sizes = [0, 1, 127, 128, 300, 16383, 16384, 2097151, 2097152];
  const python = PY_RECV + PY_PAYLOAD + `
def write_varint(n):  # protobuf's _VarintBytes: 7 bits a byte, low first
    out = bytearray()
    while True:
        bits = n & 0x7F
        n >>= 7
        if n:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)

def read_varint():
    shift = result = 0
    while True:
        (byte,) = recv_exactly(1)
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result
        shift += 7

sizes = [0, 1, 127, 128, 300, 16383, 16384, 2097151, 2097152]
for i, n in enumerate(sizes):
    sock.sendall(write_varint(n) + payload(i, n))
sock.shutdown(socket.SHUT_WR)
for i, n in enumerate(sizes):
    length = read_varint()
    assert length == n, (i, length, n)
    assert recv_exactly(length) == payload(i, n), i
assert at_eof()
print("echoed", len(sizes))
`;
  let frames: Uint8Array[] = [];
  const printed = await withPythonPeer(
    python,
    async (socket) => {
      frames = await echoAll(socket, varintPrefixed());
    },
  );
  assertEquals(frames.map((f) => f.length), sizes);
  frames.forEach((frame, i) =>
    assert(equals(frame, payload(i, sizes[i])), `frame ${i}`)
  );
  assertEquals(printed, `echoed ${sizes.length}`);
});

Deno.test("interop: a Python netstring writer and reader, netstring()", async () => {
  const sizes = [0, 1, 9, 10, 99, 100, 65536, 1_000_000];
  const python = PY_RECV + PY_PAYLOAD + `
sizes = [0, 1, 9, 10, 99, 100, 65536, 1000000]
for i, n in enumerate(sizes):
    data = payload(i, n)
    sock.sendall(b"%d:" % len(data) + data + b",")
sock.shutdown(socket.SHUT_WR)
for i, n in enumerate(sizes):
    digits = b""
    while not digits.endswith(b":"):
        digits += recv_exactly(1)
    length = int(digits[:-1])
    assert length == n, (i, length)
    assert recv_exactly(length) == payload(i, n), i
    assert recv_exactly(1) == b",", i
assert at_eof()
print("echoed", len(sizes))
`;
  let frames: Uint8Array[] = [];
  const printed = await withPythonPeer(python, async (socket) => {
    frames = await echoAll(socket, netstring());
  });
  assertEquals(frames.map((f) => f.length), sizes);
  frames.forEach((frame, i) =>
    assert(equals(frame, payload(i, sizes[i])), `frame ${i}`)
  );
  assertEquals(printed, `echoed ${sizes.length}`);
});

Deno.test("interop: Python MySQL-style packets (3-byte little-endian length + sequence byte), lengthField()", async () => {
  // The largest MySQL payload, 2^24 - 1 bytes, is a packet of 2^24 + 3.
  const sizes = [0, 1, 251, 65536, 2 ** 24 - 1];
  const python = PY_RECV + PY_PAYLOAD + `
sizes = [0, 1, 251, 65536, 2**24 - 1]
for seq, n in enumerate(sizes):
    data = payload(seq, n)
    sock.sendall(struct.pack("<I", len(data))[:3] + struct.pack("B", seq) + data)
sock.shutdown(socket.SHUT_WR)
for seq, n in enumerate(sizes):
    header = recv_exactly(4)
    length = struct.unpack("<I", header[:3] + b"\\0")[0]
    assert (length, header[3]) == (n, seq), (length, header[3])
    assert recv_exactly(length) == payload(seq, n), seq
assert at_eof()
print("echoed", len(sizes))
`;
  const mysql = lengthField({
    headerBytes: 3,
    littleEndian: true,
    adjustment: 1, // the sequence byte after the length is not counted
    maxFrameBytes: 2 ** 24 + 3,
  });
  const packets: { seq: number; length: number; ok: boolean }[] = [];
  const printed = await withPythonPeer(python, async (socket) => {
    for (let seq = 0;; seq++) {
      const packet = await socket.recvFrame(mysql);
      if (packet === null) break;
      // The value is the whole packet as on the wire: header, then payload.
      const body = packet.subarray(4);
      packets.push({
        seq: packet[3],
        length: body.length,
        ok: equals(body, payload(seq, sizes[seq])),
      });
      await socket.sendFrame(packet, mysql); // a copy with the length filled in
    }
  });
  assertEquals(
    packets,
    sizes.map((length, seq) => ({ seq, length, ok: true })),
  );
  assertEquals(printed, `echoed ${sizes.length}`);
});

Deno.test("interop: a Python peer mixing LF and CRLF lines (HTTP/Redis style), delimited({ trimCr: true })", async () => {
  const python = PY_RECV + `
import time
sock.sendall(b"GET / HTTP/1.1\\r\\nHost: example\\r\\n\\r\\n")
sock.sendall(b"PING\\n+OK\\r\\n")
sock.sendall(b"split between\\r")  # the "\\r" and its "\\n" in two sends
time.sleep(0.05)
sock.sendall(b"\\nlone\\rinside\\n" + "多字节\\r\\n".encode() + b"two\\r\\r\\n")
sock.shutdown(socket.SHUT_WR)
lines = []
while not at_eof():
    line = b""
    while not line.endswith(b"\\n"):
        line += recv_exactly(1)
    lines.append(line[:-1].decode())
print(repr(lines))
`;
  const expected = [
    "GET / HTTP/1.1",
    "Host: example",
    "",
    "PING",
    "+OK",
    "split between",
    "lone\rinside",
    "多字节",
    "two\r", // one "\r" is the terminator's; the other is the line's
  ];
  let lines: string[] = [];
  const printed = await withPythonPeer(python, async (socket) => {
    const frames = [];
    for await (const line of socket.frames(delimited({ trimCr: true }))) {
      frames.push(line);
      await socket.sendFrame(line, delimited()); // LF endings back
    }
    lines = frames.map((line) => decoder.decode(line));
  });
  assertEquals(lines, expected);
  assertEquals(
    printed,
    `[${expected.map((l) => `'${l.replace("\r", "\\r")}'`).join(", ")}]`,
  );
});
