// Tests of framing/types.ts: the checks every framing's encode goes through.

import {
  delimited,
  encodeFrame,
  lengthPrefixed,
  message,
} from "../../framing.ts";
import { assertThrows } from "../_helpers/assert.ts";

Deno.test("encoding something that is not a Uint8Array is a TypeError", () => {
  const notBytes = "abc" as unknown as Uint8Array;
  assertThrows(
    () => lengthPrefixed().encode(notBytes),
    TypeError,
    "Uint8Array",
  );
  assertThrows(() => encodeFrame(notBytes), TypeError);
  assertThrows(() => delimited().encode(notBytes), TypeError);
  assertThrows(
    () => message().encode({ header: {}, body: notBytes }),
    TypeError,
  );
});
