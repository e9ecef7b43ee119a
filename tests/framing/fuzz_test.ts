// Fuzzing the codecs (issue #7, item 1): random and mutated byte streams into
// every framing in random chunkings. The only allowed outcomes are values or
// a FrameError; no other exception, no hang, memory bounded by the limits.
//
// Fixed: each fuzz loop runs a fixed number of cases (no clock decides how
// many), from a fixed seed (FIXED_SEED), so every machine and every CI run
// fuzzes the same cases; failures print the seed. Set FUZZ_SEED (with --allow-env) to run others.
// `deno task fuzz` runs the same driver for longer, from a random seed it
// prints (bench/fuzz.ts).

import {
  delimited,
  encodeFrame,
  FrameDecoder,
  FrameError,
  type FrameErrorCode,
  lengthPrefixed,
  message,
} from "../../framing.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";
import {
  checkAll,
  checkHeavy,
  checkPrototype,
  checkStream,
  fuzzEncodes,
  fuzzReadBuffer,
  heavyCases,
  KINDS,
  makeConfig,
  messageFrame,
  nested,
  reference,
  runFuzz,
  writeUint,
} from "../_helpers/fuzz.ts";
import { caseSeed, hex32, parseSeed, Rng } from "../_helpers/random.ts";

const MiB = 1024 * 1024;
const utf8 = new TextEncoder();

/** The seed of `deno task test`: the same cases on every run. */
const FIXED_SEED = 0x5eed0c0d;

function seedFromEnv(): number {
  const granted = Deno.permissions.querySync({
    name: "env",
    variable: "FUZZ_SEED",
  }).state === "granted";
  const text = granted ? Deno.env.get("FUZZ_SEED") : undefined;
  return text ? parseSeed(text) : FIXED_SEED;
}

const SEED = seedFromEnv();

/** Runs `body` with a fresh Rng; a failure names the seed to rerun it. */
async function seeded(
  salt: number,
  body: (rng: Rng) => void | Promise<void>,
): Promise<void> {
  try {
    await body(new Rng(SEED ^ salt));
  } catch (error) {
    throw new Error(
      `failed with FUZZ_SEED=${hex32(SEED)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Bytes in use by ArrayBuffers: where a big allocation would show. */
function external(): number {
  return Deno.memoryUsage().external;
}

Deno.test("fuzz: mutated streams in every framing and chunking give values or a FrameError", async () => {
  const stats = await runFuzz({ seed: SEED, maxCases: 400 });
  assert(stats.cases >= 100, `only ${stats.cases} cases ran`);
  const kinds = new Set(
    Object.keys(stats.outcomes).map((k) => k.split(" ")[0]),
  );
  assertEquals(kinds.size, new Set(KINDS).size, `kinds fuzzed: ${[...kinds]}`);
});

// The codecs for other people's protocols, 2,000 hostile streams each (about
// 4 s apiece here): decode only, the encode parts run in the test above.
for (
  const [kind, salt] of [
    ["lengthField", 0x1f],
    ["varint", 0x7a],
    ["netstring", 0x5e],
    ["crlf", 0xc2],
  ] as const
) {
  Deno.test(`fuzz: 2,000 mutated streams into ${kind} give values or a FrameError`, async () => {
    const stats = await runFuzz({
      seed: SEED ^ salt,
      maxCases: 2000,
      kinds: [kind],
      decodeOnly: true,
    });
    assertEquals(stats.cases, 2000);
    // Every outcome occurs: values, and each error the codec can raise.
    const codes = Object.keys(stats.outcomes).map((k) => k.split(" ")[1]);
    for (const code of ["ok", "FRAME_TOO_LARGE", "INCOMPLETE_FRAME"]) {
      assert(codes.includes(code), `${kind}: never ${code}: ${codes}`);
    }
    if (kind !== "crlf") {
      assert(codes.includes("BAD_HEADER"), `${kind}: never BAD_HEADER`);
    }
  });
}

Deno.test("fuzz: encode round-trips or throws FRAME_TOO_LARGE, TypeError or RangeError", async () => {
  await seeded(0, () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      for (const outcome of fuzzEncodes(caseSeed(SEED ^ 0xe1, i))) {
        seen.add(outcome);
      }
    }
    for (
      const must of [
        "lengthPrefixed: ok",
        "delimited: ok",
        "message: ok",
        "lengthField: ok",
        "lengthField: BAD_HEADER",
        "varint: ok",
        "netstring: ok",
        "delimited trimCr: ok",
      ]
    ) {
      assert(seen.has(must), `never saw ${must}: ${[...seen]}`);
    }
  });
});

Deno.test("fuzz: ReadBuffer matches a model and never overwrites a lent view", async () => {
  await seeded(0xb0, (rng) => {
    for (let i = 0; i < 70; i++) {
      fuzzReadBuffer(new Rng(rng.u32()));
    }
  });
});

// ---------------------------------------------------------------------------
// Message headers a hostile or broken peer may send

/** The JSON, the body after it, and the outcome with default limits. */
const HEADERS: [string | Uint8Array, number, FrameErrorCode | null][] = [
  ["[]", 0, "BAD_HEADER"],
  ["[1,2]", 0, "BAD_HEADER"],
  ['[{"size":0}]', 0, "BAD_HEADER"],
  ["0", 0, "BAD_HEADER"],
  ["5", 0, "BAD_HEADER"],
  ["1e300", 0, "BAD_HEADER"],
  ['"5"', 0, "BAD_HEADER"],
  ['"{\\"size\\":0}"', 0, "BAD_HEADER"],
  ["null", 0, "BAD_HEADER"],
  ["true", 0, "BAD_HEADER"],
  ["false", 0, "BAD_HEADER"],
  ["", 0, "BAD_HEADER"],
  ["{", 0, "BAD_HEADER"],
  ["{}", 0, "BAD_HEADER"],
  ['{"size":0,}', 0, "BAD_HEADER"],
  ["{'size':0}", 0, "BAD_HEADER"],
  ['{"size":0}{"size":0}', 0, "BAD_HEADER"],
  ['{"size":-1}', 0, "BAD_HEADER"],
  ['{"size":1e300}', 0, "BAD_HEADER"],
  ['{"size":"5"}', 5, "BAD_HEADER"],
  ['{"size":1.5}', 0, "BAD_HEADER"],
  ['{"size":9007199254740992}', 0, "BAD_HEADER"],
  ['{"size":1e400}', 0, "BAD_HEADER"],
  ['{"size":-1e400}', 0, "BAD_HEADER"],
  ['{"size":NaN}', 0, "BAD_HEADER"],
  ['{"size":Infinity}', 0, "BAD_HEADER"],
  ['{"size":0x10}', 0, "BAD_HEADER"],
  ['{"size":null}', 0, "BAD_HEADER"],
  ['{"size":true}', 1, "BAD_HEADER"],
  ['{"size":[1]}', 1, "BAD_HEADER"],
  ['{"size":{}}', 0, "BAD_HEADER"],
  ['{"size":9007199254740991}', 0, "FRAME_TOO_LARGE"],
  ['{"size":16777217}', 0, "FRAME_TOO_LARGE"],
  ['{"size":-0}', 0, null],
  ['{"size":0e5}', 0, null],
  ['{"size":1E1}', 10, null],
  ['{"size":1,"size":2}', 2, null],
  ['{"size":1,"size":2}', 1, "INCOMPLETE_FRAME"],
  ['{"size":0,"size":"x"}', 0, "BAD_HEADER"],
  ['{"size":"x","size":0}', 0, null],
  ['{"__proto__":{"size":1}}', 1, "BAD_HEADER"],
  ['{"__proto__":{"polluted":true},"size":0}', 0, null],
  ['{"__proto__":{"polluted":true},"__proto__":{"size":0},"size":0}', 0, null],
  ['{"constructor":{"prototype":{"polluted":true}},"size":0}', 0, null],
  ['{"size":0,"__proto__":null}', 0, null],
  ['{"size":0,"toString":1,"valueOf":2,"hasOwnProperty":3}', 0, null],
  ['{"size":0,"a":"\\ud800"}', 0, null],
  [new Uint8Array([0xff]), 0, "BAD_HEADER"],
  [new Uint8Array([0xc0, 0x80]), 0, "BAD_HEADER"],
  [new Uint8Array([0xe2, 0x82]), 0, "BAD_HEADER"],
  [
    new Uint8Array([
      ...utf8.encode('{"size":0,"a":"'),
      0xed,
      0xa0,
      0x80,
      34,
      125,
    ]),
    0,
    "BAD_HEADER",
  ],
  [new Uint8Array([...utf8.encode('{"size":0}'), 0x80]), 0, "BAD_HEADER"],
];

Deno.test("fuzz: message headers that are not objects or have a bad size are BAD_HEADER", async () => {
  await seeded(0x4d, async (rng) => {
    for (const [json, bodyLength, expected] of HEADERS) {
      for (const littleEndian of [false, true]) {
        for (const kind of ["message", "head"] as const) {
          const config = makeConfig(kind, { littleEndian });
          const body = kind === "message"
            ? rng.bytes(bodyLength)
            : new Uint8Array(0);
          const bytes = messageFrame(json, body, littleEndian);
          const ref = await checkAll(config, bytes, rng);
          const want = kind === "head" && expected === "INCOMPLETE_FRAME"
            ? null // the head alone is complete
            : kind === "head" && expected === "FRAME_TOO_LARGE"
            ? null // maxBodyBytes does not apply to the head
            : expected;
          assertEquals(ref.code, want, `${kind} ${String(json)}`);
          if (want === null) {
            const value = ref.values[0] as Record<string, unknown>;
            const header =
              (kind === "message" ? value.header : value) as Record<
                string,
                unknown
              >;
            assertEquals(Object.getPrototypeOf(header), Object.prototype);
          }
        }
      }
    }
    checkPrototype("after every hostile header");
  });
});

Deno.test("fuzz: a __proto__ key is an own property and pollutes nothing", () => {
  const framing = message();
  const json = '{"__proto__":{"polluted":true,"size":9},"size":1}';
  const decoded = framing.decode(messageFrame(json, new Uint8Array([7])), 0);
  assert(decoded !== null);
  const header = decoded.value.header;
  assertEquals(Object.getPrototypeOf(header), Object.prototype);
  assertEquals(Object.hasOwn(header, "__proto__"), true);
  assertEquals(header.size, 1);
  assertEquals((header as { polluted?: unknown }).polluted, undefined);
  assertEquals(({} as { polluted?: unknown }).polluted, undefined);
  // Encoding it back keeps the key as data, not as a prototype.
  const again = framing.decode(framing.encode(decoded.value), 0);
  assertEquals(Object.hasOwn(again!.value.header, "__proto__"), true);
  checkPrototype("__proto__ round trip");
});

// ---------------------------------------------------------------------------
// Deep nesting and huge headers

Deno.test("fuzz: 100,000 levels of nesting are FRAME_TOO_LARGE or BAD_HEADER, never a RangeError", async () => {
  await seeded(0xd1, async (rng) => {
    // Default limit: refused at the 4-byte length, before the JSON arrives.
    for (const littleEndian of [false, true]) {
      const bytes = messageFrame(
        nested(100_000, "[", "]"),
        undefined,
        littleEndian,
      );
      const decoder = new FrameDecoder(message({ littleEndian }));
      const error = assertThrows(
        () => decoder.push(bytes.subarray(0, 4)),
        FrameError,
      ) as FrameError;
      assertEquals(error.code, "FRAME_TOO_LARGE");
    }
    // Every chunking, at the default limit and at 16 MiB (parsed, then judged).
    for (const item of heavyCases()) {
      if (!item.slow && item.name.includes("100,000")) {
        await checkHeavy(item, rng);
      }
    }
  });
});

Deno.test("fuzz: a 10 MB header is FRAME_TOO_LARGE by default and handled under a 16 MiB limit", async () => {
  await seeded(0x10, async (rng) => {
    const json = `{"size":3,"pad":"${"x".repeat(10_000_000)}"}`;
    // Default limit: thrown at the length, with no 10 MB allocation.
    const length = messageFrame(json).subarray(0, 4);
    const before = external();
    const decoder = new FrameDecoder(message());
    const error = assertThrows(
      () => decoder.push(length),
      FrameError,
    ) as FrameError;
    assertEquals(error.code, "FRAME_TOO_LARGE");
    assert(external() - before < MiB, "allocated at a refused header");
    for (const item of heavyCases()) {
      if (!item.slow && item.name.includes("10 MB")) {
        const ref = await checkHeavy(item, rng);
        if (ref.code === null) {
          const value = ref.values[0] as {
            header: { pad: string };
            body: Uint8Array;
          };
          assertEquals(value.header.pad.length, 10_000_000);
          assertEquals([...value.body], [97, 98, 99]);
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------
// Limits: refused at the header, nothing of the announced size allocated

Deno.test("fuzz: lengths over maxFrameBytes are refused at the header without allocating", () => {
  const announced = [
    1001n,
    2n ** 16n - 1n,
    2n ** 32n - 1n,
    2n ** 53n,
    2n ** 53n + 1n,
    2n ** 64n - 1n,
  ];
  for (const headerBytes of [1, 2, 4, 8] as const) {
    for (const littleEndian of [false, true]) {
      for (const length of announced) {
        if (length >= 2n ** BigInt(8 * headerBytes)) continue;
        const framing = lengthPrefixed({
          headerBytes,
          littleEndian,
          maxFrameBytes: 1000,
        });
        const header = new Uint8Array(headerBytes);
        writeUint(header, 0, headerBytes, littleEndian, length);
        for (const size of [1, headerBytes]) {
          const before = external();
          const decoder = new FrameDecoder(framing);
          let error: unknown;
          for (
            let at = 0;
            at < headerBytes && error === undefined;
            at += size
          ) {
            try {
              decoder.push(header.subarray(at, at + size));
            } catch (e) {
              error = e;
              assertEquals(
                at + size,
                headerBytes,
                "thrown before the header was complete",
              );
            }
          }
          const where = `${headerBytes}-byte ${
            littleEndian ? "LE" : "BE"
          } header announcing ${length}`;
          assert(error instanceof FrameError, `${where}: no FrameError`);
          assertEquals(error.code, "FRAME_TOO_LARGE", where);
          assert(external() - before < MiB, `${where}: allocated`);
        }
      }
    }
  }
  // message: the header length and the body size.
  const m = message({ maxHeaderBytes: 1000, maxBodyBytes: 1000 });
  for (
    const bytes of [
      new Uint8Array([0xff, 0xff, 0xff, 0xff]),
      messageFrame('{"size":4294967295}'),
    ]
  ) {
    const before = external();
    const error = assertThrows(
      () => new FrameDecoder(m).push(bytes),
      FrameError,
    ) as FrameError;
    assertEquals(error.code, "FRAME_TOO_LARGE");
    assert(external() - before < MiB, "message: allocated");
  }
});

Deno.test("fuzz: a frame within a huge limit is buffered as it arrives, not allocated from its header", () => {
  const cases = [
    {
      width: 8,
      littleEndian: false,
      max: Number.MAX_SAFE_INTEGER,
      header: 2n ** 53n - 1n,
    },
    {
      width: 8,
      littleEndian: true,
      max: Number.MAX_SAFE_INTEGER,
      header: 2n ** 40n,
    },
    { width: 4, littleEndian: false, max: 2 ** 32 - 1, header: 2n ** 32n - 1n },
  ] as const;
  const payload = new Uint8Array(2 * MiB);
  for (const { width, littleEndian, max, header } of cases) {
    const framing = lengthPrefixed({
      headerBytes: width,
      littleEndian,
      maxFrameBytes: max,
    });
    const head = new Uint8Array(width);
    writeUint(head, 0, width, littleEndian, header);
    const before = external();
    const decoder = new FrameDecoder(framing);
    decoder.push(head.subarray(0, 1));
    decoder.push(head.subarray(1));
    for (let at = 0; at < payload.length; at += 4096) {
      assertEquals(decoder.push(payload.subarray(at, at + 4096)), []);
    }
    assertEquals(decoder.buffered, width + payload.length);
    const grown = external() - before;
    assert(
      grown < 16 * MiB,
      `${header}: ${grown} bytes allocated for ${decoder.buffered} buffered`,
    );
    assertEquals(
      (assertThrows(() => decoder.end(), FrameError) as FrameError).code,
      "INCOMPLETE_FRAME",
    );
  }
  // message, with the body limit lifted.
  const m = message({ maxBodyBytes: Number.MAX_SAFE_INTEGER });
  const before = external();
  const decoder = new FrameDecoder(m);
  const head = messageFrame('{"size":9007199254740991}');
  decoder.push(head.subarray(0, 3));
  decoder.push(head.subarray(3));
  for (let at = 0; at < payload.length; at += 4096) {
    decoder.push(payload.subarray(at, at + 4096));
  }
  assert(external() - before < 16 * MiB, "message: allocated from the header");
});

// ---------------------------------------------------------------------------
// Regressions found by the fuzzer

Deno.test("fuzz: delimited encode refuses a value whose end and the delimiter form an earlier delimiter", () => {
  const cases = [
    ["\r\n\r\n", "x\r\n"],
    ["aa", "ba"],
    ["aba", "xab"],
  ];
  for (const [delimiter, value] of cases) {
    const framing = delimited({ delimiter });
    assertThrows(() => framing.encode(utf8.encode(value)), TypeError);
  }
  // A near miss still round-trips.
  const framing = delimited({ delimiter: "\r\n\r\n" });
  const bytes = framing.encode(utf8.encode("x\r\n\r"));
  assertEquals(
    new TextDecoder().decode(framing.decode(bytes, 0)!.value),
    "x\r\n\r",
  );
});

Deno.test({
  name:
    "fuzz: DecoderStream delivers every value completed before a stream ends inside a frame",
  async fn() {
    const frames = Array.from(
      { length: 16 },
      (_, i) => encodeFrame(new Uint8Array([i])),
    );
    const bytes = new Uint8Array([...frames.flatMap((f) => [...f]), 0, 0]);
    const config = makeConfig("lengthPrefixed");
    const ref = reference(config, bytes);
    assertEquals(ref.values.length, 16);
    await checkStream(
      config,
      bytes,
      { name: "one chunk", sizes: [bytes.length] },
      ref,
      true,
    );
  },
});
