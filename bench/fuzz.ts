// Long fuzz run of the framing codecs (issue #7): the driver behind
// tests/framing/fuzz_test.ts, for as long as you like. Random and mutated streams go
// into every framing in random chunkings; a run fails on any outcome other
// than values or a FrameError, on a decoder that disagrees with itself across
// chunkings, or on memory growing past a bound.
//
//   deno task fuzz                          60 s, random seed
//   deno task fuzz --seconds 600            or FUZZ_SECONDS=600
//   deno task fuzz --seed 0x1234abcd        or FUZZ_SEED=0x1234abcd
//   deno task fuzz --replay 0x89abcdef      rerun one failing case
//   deno task fuzz --kinds varint,netstring only these framings (a --replay
//                                           needs the --kinds its run had;
//                                           the kinds: KINDS in tests/_helpers/fuzz.ts)
//   deno task fuzz --no-heavy               skip the 100,000-deep, 1,000,000-deep
//                                           and 10-16 MiB headers at the start
//   deno task fuzz --max-mib 512            fail if ArrayBuffers ever hold more
//
// Permissions: --allow-env=FUZZ_SECONDS,FUZZ_SEED (both optional).

import * as cli from "@std/cli/parse-args";
import {
  checkHeavy,
  type FuzzStats,
  heavyCases,
  type Kind,
  KINDS,
  replayCase,
  runFuzz,
} from "../tests/_helpers/fuzz.ts";
import { hex32, parseSeed, randomSeed, Rng } from "../tests/_helpers/random.ts";

interface Flags {
  seconds?: string | number;
  seed?: string | number;
  replay?: string | number;
  kinds?: string;
  heavy: boolean;
  "max-mib": string | number;
  help: boolean;
}

const parseArgs: (
  args: string[],
  options: {
    string?: string[];
    boolean?: string[];
    default?: Record<string, unknown>;
    negatable?: string[];
  },
) => Flags = cli.parseArgs;

function env(name: string): string | undefined {
  const state = Deno.permissions.querySync({ name: "env", variable: name })
    .state;
  return state === "granted" ? Deno.env.get(name) : undefined;
}

/** A seed from --seed, --replay or FUZZ_SEED; exits with a message if bad. */
function toSeed(text: string | number, what: string): number {
  try {
    return parseSeed(String(text));
  } catch (error) {
    console.error(`fuzz: ${what}: ${(error as Error).message}`);
    Deno.exit(2);
  }
}

function toNumber(text: string | number | undefined, what: string): number {
  const value = Number(text);
  if (text === undefined || text === "" || !Number.isFinite(value)) {
    console.error(`fuzz: ${what} must be a number, got ${text}`);
    Deno.exit(2);
  }
  return value;
}

const flags = parseArgs(Deno.args, {
  string: ["seconds", "seed", "replay", "max-mib", "kinds"],
  boolean: ["heavy", "help"],
  negatable: ["heavy"],
  default: { heavy: true, "max-mib": "512" },
});

if (flags.help) {
  console.log(
    "usage: deno task fuzz [--seconds N] [--seed S] [--replay CASE] [--kinds K,K] [--no-heavy] [--max-mib M]",
  );
  Deno.exit(0);
}

/** The framings from --kinds; every kind without it. */
const kinds = flags.kinds === undefined
  ? undefined
  : flags.kinds.split(",") as Kind[];
for (const kind of kinds ?? []) {
  if (!KINDS.includes(kind)) {
    console.error(
      `fuzz: --kinds: unknown kind ${kind}; kinds: ${[...new Set(KINDS)]}`,
    );
    Deno.exit(2);
  }
}

const MiB = 1024 * 1024;
const maxBytes = toNumber(flags["max-mib"], "--max-mib") * MiB;
let peakExternal = 0;
let peakRss = 0;

function sampleMemory(): void {
  const { external, rss } = Deno.memoryUsage();
  peakExternal = Math.max(peakExternal, external);
  peakRss = Math.max(peakRss, rss);
  if (external > maxBytes) {
    throw new Error(
      `ArrayBuffers hold ${(external / MiB).toFixed(0)} MiB, over --max-mib ${
        maxBytes / MiB
      }`,
    );
  }
}

function summary(stats: FuzzStats): string {
  const seconds = stats.elapsedMs / 1000;
  const outcomes = Object.entries(stats.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key}: ${n}`)
    .join(", ");
  return `${stats.cases} cases in ${seconds.toFixed(1)} s (${
    (stats.cases / seconds).toFixed(0)
  }/s), ${
    (stats.streamBytes / MiB).toFixed(1)
  } MiB of streams, ${stats.values} values; ${outcomes}; peak ArrayBuffers ${
    (peakExternal / MiB).toFixed(0)
  } MiB, peak rss ${(peakRss / MiB).toFixed(0)} MiB`;
}

if (flags.replay !== undefined) {
  const seed = toSeed(flags.replay, "--replay");
  try {
    console.log(await replayCase(seed, kinds));
  } catch (error) {
    console.error(error);
    Deno.exit(1);
  }
  Deno.exit(0);
}

const seconds = toNumber(
  flags.seconds ?? env("FUZZ_SECONDS") ?? 60,
  "--seconds",
);
const seedText = flags.seed ?? env("FUZZ_SEED");
const seed = seedText === undefined ? randomSeed() : toSeed(seedText, "--seed");
console.log(`fuzz: seed ${hex32(seed)}, ${seconds} s`);

const started = performance.now();
try {
  if (flags.heavy) {
    const rng = new Rng(seed ^ 0x4ea4);
    for (const item of heavyCases()) {
      const t = performance.now();
      await checkHeavy(item, rng);
      sampleMemory();
      console.log(
        `  heavy: ${item.kind} ${item.name}: ${item.expected ?? "value"} (${
          (performance.now() - t).toFixed(0)
        } ms)`,
      );
    }
  }
  const left = seconds * 1000 - (performance.now() - started);
  const stats = await runFuzz({
    seed,
    kinds,
    timeMs: Math.max(0, left),
    onProgress: (stats) => {
      sampleMemory();
      console.log(`  ${summary(stats)}`);
    },
  });
  sampleMemory();
  console.log(`fuzz: passed. ${summary(stats)}`);
  console.log(
    `  encodes: ${
      Object.entries(stats.encodes).sort(([a], [b]) => a.localeCompare(b))
        .map(([key, n]) => `${key}: ${n}`).join(", ")
    }; ReadBuffer runs: ${stats.readBufferRuns}; EncoderStream runs: ${stats.encoderStreamRuns}`,
  );
} catch (error) {
  console.error(
    `fuzz: FAILED (seed ${hex32(seed)}; rerun: deno task fuzz --seed ${
      hex32(seed)
    })`,
  );
  console.error(error);
  Deno.exit(1);
}
