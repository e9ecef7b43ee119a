// Tests of transport/check.ts: transport options checked before any I/O.

import { checkTransport } from "../../transport/check.ts";
import {
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { CERT, KEY } from "../_helpers/transports.ts";

// --- Argument checks ---------------------------------------------------------

Deno.test("transport options are checked before any I/O", () => {
  const cases: [
    Parameters<typeof checkTransport>[0],
    "connect" | "listen",
    string,
  ][] = [
    [{ path: "" }, "connect", "path must be a non-empty string"],
    [{ path: 7 }, "connect", "path must be a non-empty string"],
    [{ path: "/tmp/x.sock", port: 80 }, "connect", "not both"],
    [{ path: "/tmp/x.sock", tls: true }, "connect", "TLS over a Unix socket"],
    [{ path: "/tmp/x.sock", reusePort: true }, "listen", "reusePort"],
    [{ tls: "yes" }, "connect", "tls must be true or an object"],
    [{ tls: { caCerts: "pem" } }, "connect", "tls.caCerts"],
    [{ tls: { serverName: "" } }, "connect", "tls.serverName"],
    [{ tls: { alpnProtocols: [1] } }, "connect", "tls.alpnProtocols"],
    [{ tls: true }, "listen", "tls must be an object with cert and key"],
    [{ tls: { cert: CERT } }, "listen", "tls.key must be a PEM string"],
    [
      { tls: { cert: "", key: KEY } },
      "listen",
      "tls.cert must be a PEM string",
    ],
  ];
  for (const [target, side, message] of cases) {
    const error = assertThrows(() => checkTransport(target, side, side));
    assertInstanceOf(error, TypeError);
    assertStringIncludes(error.message, message);
  }
  const long = assertThrows(
    () => checkTransport({ path: "/" + "a".repeat(107) }, "listen", "listen"),
  );
  assertInstanceOf(long, RangeError);
  assertStringIncludes(long.message, "at most 107 bytes, got 108");
  // Valid ones pass.
  checkTransport({ path: "/tmp/x.sock" }, "listen", "listen");
  checkTransport({ port: 1, tls: true }, "connect", "connect");
  checkTransport({ tls: { cert: CERT, key: KEY } }, "listen", "listen");
});
