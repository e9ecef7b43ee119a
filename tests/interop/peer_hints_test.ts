// A frame header that is really the start of another protocol says so: a
// TLS record (a plaintext client of a TLS server, or a TLS client of a plain
// server) or an HTTP line (a web server or a browser at the other end). The
// error code stays FRAME_TOO_LARGE; the struct.pack("i") byte-order hint is
// given only when the bytes do not read as TLS or HTTP. The peers are real:
// Deno's TLS listener and client (tests/fixtures certificates), Deno.serve
// and fetch, all on 127.0.0.1.

import {
  assertEquals,
  assertInstanceOf,
  assertNotMatch,
  assertStringIncludes,
} from "../_helpers/assert.ts";
import { rejection, within } from "../_helpers/async.ts";
import {
  connect,
  FrameDecoder,
  FrameError,
  type Framing,
  lengthPrefixed,
  listen,
  message,
} from "../../mod.ts";

const fixtures = new URL("../fixtures/", import.meta.url);
const cert = await Deno.readTextFile(new URL("localhost.pem", fixtures));
const key = await Deno.readTextFile(new URL("localhost.key", fixtures));
const ca = await Deno.readTextFile(new URL("ca.pem", fixtures));

const TLS_HINT = "the peer seems to speak TLS";
const HTTP_HINT = "the peer seems to speak HTTP";
const BYTE_ORDER_HINT = /struct\.pack/;

/**
 * The framings a confused peer is read with, and whether a TLS peer's bytes
 * are over their limit. Read little-endian, an alert's `15 03 03 00` is
 * 197,397 bytes and a short ClientHello's `16 03 01 00` 66,326: lengths a
 * 16 MiB limit allows, so the decoder rightly waits for them (and the
 * stream ends in INCOMPLETE_FRAME); a 2-byte header's `15 03` is 5,379
 * bytes, over 1024 (tested below on its own, and here with the ClientHello).
 */
const FRAMINGS: [string, () => Framing<unknown>, { tls: boolean }][] = [
  ["lengthPrefixed()", () => lengthPrefixed(), { tls: true }],
  [
    "lengthPrefixed({ littleEndian: true })",
    () => lengthPrefixed({ littleEndian: true }),
    { tls: false },
  ],
  [
    "lengthPrefixed({ headerBytes: 2, maxFrameBytes: 1024 })",
    () => lengthPrefixed({ headerBytes: 2, maxFrameBytes: 1024 }),
    { tls: true },
  ],
  ["message()", () => message() as Framing<unknown>, { tls: true }],
];

/** Asserts `error` is FRAME_TOO_LARGE carrying `hint` and no byte-order lead. */
function assertHint(error: unknown, hint: string): FrameError {
  assertInstanceOf(error, FrameError);
  assertEquals(error.code, "FRAME_TOO_LARGE", error.message);
  assertStringIncludes(error.message, hint);
  assertNotMatch(error.message, BYTE_ORDER_HINT);
  return error;
}

for (const [name, framing, { tls }] of FRAMINGS) {
  if (tls) {
    Deno.test({
      name:
        `${name}: a plaintext client of a TLS server (Deno.listenTls) is told the peer speaks TLS`,
      fn: async () => {
        using server = Deno.listenTls({
          hostname: "127.0.0.1",
          port: 0,
          cert,
          key,
        });
        const served = (async () => {
          const conn = await server.accept();
          // Our frame is not a ClientHello: the handshake fails and rustls
          // answers with an alert record (15 03 03 ...).
          await conn.handshake().catch(() => {});
          conn.close();
        })();
        {
          await using client = await connect({
            port: server.addr.port,
            timeout: 5000,
            framing: framing(),
          });
          client.timeout = 5000;
          await client.send(
            new Uint8Array([0, 0, 0, 5, 104, 101, 108, 108, 111]),
          );
          const error = assertHint(
            await rejection(client.recvFrame()),
            TLS_HINT,
          );
          assertStringIncludes(error.message, "connect with tls");
          assertStringIncludes(error.message, "alert record");
        }
        await within(served, 5000, "the TLS server");
      },
    });
  }

  if (tls) {
    Deno.test({
      name:
        `${name}: a plain server read by a TLS client (Deno.connectTls) is told the peer speaks TLS`,
      fn: async () => {
        using server = listen({ port: 0, framing: framing() });
        const tls = Deno.connectTls({
          hostname: "localhost",
          port: server.addr.port,
          caCerts: [ca],
        });
        // The client's handshake starts at once (its ClientHello); it fails
        // when we hang up.
        const handshake = tls.then(async (conn) => {
          try {
            await conn.handshake();
          } finally {
            conn.close();
          }
        }).catch((error) => error);
        {
          await using peer = await server.accept();
          peer.timeout = 5000;
          const error = assertHint(await rejection(peer.recvFrame()), TLS_HINT);
          assertStringIncludes(error.message, "handshake record");
          assertStringIncludes(error.message, "listen with tls");
          assertStringIncludes(error.message, "16 03");
        }
        await within(handshake, 5000, "the TLS client");
      },
    });
  }

  Deno.test(`${name}: a client of an HTTP server (Deno.serve) is told the peer speaks HTTP`, async () => {
    const abort = new AbortController();
    const http = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: abort.signal,
      onListen() {},
    }, () => new Response("hi"));
    try {
      await using client = await connect({
        port: http.addr.port,
        timeout: 5000,
        framing: framing(),
      });
      client.timeout = 5000;
      // Not a request line: the server answers 400 Bad Request.
      await client.send(new Uint8Array([0, 0, 0, 5, 104, 101, 108, 108, 111]));
      const error = assertHint(await rejection(client.recvFrame()), HTTP_HINT);
      assertStringIncludes(error.message, '"HTTP/1.1 400 Bad Request"');
    } finally {
      abort.abort();
      await within(http.finished, 5000, "Deno.serve");
    }
  });

  Deno.test(`${name}: a plain server fetched by an HTTP client (fetch) is told the peer speaks HTTP`, async () => {
    using server = listen({ port: 0, framing: framing() });
    using client = Deno.createHttpClient({});
    const abort = new AbortController();
    const request = fetch(`http://127.0.0.1:${server.addr.port}/hello`, {
      client,
      signal: abort.signal,
    }).then((response) => response.body?.cancel()).catch((error) => error);
    {
      await using peer = await server.accept();
      peer.timeout = 5000;
      const error = assertHint(await rejection(peer.recvFrame()), HTTP_HINT);
      assertStringIncludes(error.message, '"GET /hello HTTP/1.1"');
    }
    abort.abort();
    await within(request, 5000, "fetch");
  });
}

Deno.test("lengthPrefixed({ headerBytes: 2, maxFrameBytes: 1024 }): a TLS alert (15 03 = 5379 bytes) is named as TLS", () => {
  const decoder = new FrameDecoder(
    lengthPrefixed({ headerBytes: 2, maxFrameBytes: 1024 }),
  );
  const error = assertHint(
    rejectionOf(() => decoder.push(new Uint8Array([0x15, 3, 3, 0, 2, 2, 40]))),
    TLS_HINT,
  );
  assertStringIncludes(error.message, "5379 bytes");
});

Deno.test("a ClientHello whose record is under 256 bytes fits little-endian (66326 bytes), but the hint names TLS, not struct.pack", () => {
  const hello = new Uint8Array([0x16, 3, 1, 0, 0xc8, 1, 0, 0, 0xc4, 3, 3]);
  const error = assertHint(
    rejectionOf(() => new FrameDecoder(lengthPrefixed()).push(hello)),
    TLS_HINT,
  );
  assertStringIncludes(error.message, "16 03 01 00 c8");
});

Deno.test("the byte-order hint stays where it is the likely cause, and bytes that read as neither get no protocol hint", () => {
  // struct.pack("i", 10): 0a 00 00 00.
  const packed = new Uint8Array([10, 0, 0, 0, ...new Uint8Array(10)]);
  for (const framing of [lengthPrefixed(), message() as Framing<unknown>]) {
    const error = rejectionOf(() => new FrameDecoder(framing).push(packed));
    assertInstanceOf(error, FrameError);
    assertStringIncludes(error.message, 'struct.pack("i")');
    assertNotMatch(error.message, /TLS|HTTP/);
  }
  // 16 04 is no TLS version; "GETX" is no method.
  for (
    const bytes of [[0x16, 4, 1, 0, 0], [...new TextEncoder().encode("GETX /")]]
  ) {
    const error = rejectionOf(() =>
      new FrameDecoder(lengthPrefixed()).push(new Uint8Array(bytes))
    );
    assertInstanceOf(error, FrameError);
    assertNotMatch(error.message, /TLS|HTTP/);
  }
});

Deno.test("every HTTP/1.x method and a status line are named as HTTP", () => {
  for (
    const line of [
      "HTTP/1.0 200 OK",
      "GET / HTTP/1.1",
      "POST /x HTTP/1.1",
      "PUT /x HTTP/1.1",
      "HEAD / HTTP/1.1",
      "DELETE /x HTTP/1.1",
      "OPTIONS * HTTP/1.1",
      "PATCH /x HTTP/1.1",
      "CONNECT a:443 HTTP/1.1",
    ]
  ) {
    for (const framing of [lengthPrefixed(), message() as Framing<unknown>]) {
      const error = assertHint(
        rejectionOf(() =>
          new FrameDecoder(framing).push(
            new TextEncoder().encode(`${line}\r\nHost: a\r\n\r\n`),
          )
        ),
        HTTP_HINT,
      );
      assertStringIncludes(error.message, `"${line}"`);
    }
  }
});

/** What `run` throws (fails if it returns). */
function rejectionOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
