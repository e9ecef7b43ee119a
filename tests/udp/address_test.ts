// Tests of udp/address.ts: IP literals.

import { canonicalIp, isMulticast } from "../../udp/address.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("addresses: IP literals compare in one spelling", () => {
  const cases: [string, string | undefined][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["127.000.0.01", "127.0.0.1"],
    ["256.0.0.1", undefined],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::1", "::1"],
    ["FE80::ABCD", "fe80::abcd"],
    ["fe80::1%eth0", "fe80::1%eth0"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:7f00:1", "127.0.0.1"],
    ["localhost", undefined],
    ["example.com", undefined],
    ["1:2:3", undefined],
    ["zz%eth0", undefined],
  ];
  for (const [input, expected] of cases) {
    assertEquals(canonicalIp(input), expected, input);
  }
  assertEquals(
    [
      "224.0.0.1",
      "239.255.255.255",
      "223.1.1.1",
      "240.0.0.1",
      "ff02::1",
      "fe80::1",
      "nonsense",
    ]
      .map(isMulticast),
    [true, true, false, false, true, false, false],
  );
});
