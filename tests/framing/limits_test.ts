// Tests of framing/_limits.ts: the limits every codec checks.

import {
  delimited,
  lengthPrefixed,
  message,
  type MessageOptions,
} from "../../framing.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("limits that are not non-negative safe integers are RangeErrors", () => {
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assertThrows(
      () => lengthPrefixed({ maxFrameBytes: bad }),
      RangeError,
      String(bad),
    );
    assertThrows(
      () => delimited({ maxFrameBytes: bad }),
      RangeError,
      String(bad),
    );
    assertThrows(
      () => message({ maxHeaderBytes: bad } as MessageOptions),
      RangeError,
    );
    assertThrows(
      () => message({ maxBodyBytes: bad } as MessageOptions),
      RangeError,
    );
  }
  // Zero is a limit (only empty payloads).
  assertEquals(
    lengthPrefixed({ maxFrameBytes: 0 }).encode(new Uint8Array(0)).length,
    4,
  );
});
