// The layering of the library (shared/DESIGN.md "Layout"), read from the
// imports of every library file: no import cycle, no file importing a layer
// that builds on its own, and public entries that only re-export. A failure
// names the offending edge or file.

import { assertEquals } from "./_helpers/assert.ts";

const ROOT = new URL("../", import.meta.url);

/** The public entries: they re-export and may reach any layer. */
const ENTRIES = ["mod.ts", "tcp.ts", "udp.ts", "framing.ts"];

/** The command-line tool: a program on top of the library, not part of it. */
const CLI = ["cli.ts", "cli/"];

/**
 * The layers, most basic first: a file may import its own layer and the
 * ones before it, never one after (a layer that builds on it).
 */
const LAYERS = [
  "errors.ts",
  "bytes/",
  "framing/",
  "io/",
  "transport/",
  "socket/",
  "udp/",
];

/** The library's files: the entries and every file of a layer. */
function libraryFiles(): string[] {
  const files: string[] = [...ENTRIES];
  for (const layer of LAYERS) {
    if (!layer.endsWith("/")) {
      files.push(layer);
      continue;
    }
    for (const entry of Deno.readDirSync(new URL(layer, ROOT))) {
      if (entry.isFile && entry.name.endsWith(".ts")) {
        files.push(layer + entry.name);
      }
    }
  }
  return files.sort();
}

function layerOf(file: string): number {
  return LAYERS.findIndex((layer) =>
    layer.endsWith("/") ? file.startsWith(layer) : file === layer
  );
}

const IMPORT =
  /(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|import\s+["'](\.[^"']+)["']/g;

/** The library files `file` imports, as paths from the root. */
function importsOf(file: string): string[] {
  const source = Deno.readTextFileSync(new URL(file, ROOT));
  const base = new URL(file, ROOT);
  return [...source.matchAll(IMPORT)].map((match) =>
    new URL(match[1] ?? match[2], base).pathname.slice(ROOT.pathname.length)
  );
}

/** The file's code with comments (and so JSDoc examples) removed. */
function codeOf(file: string): string {
  return Deno.readTextFileSync(new URL(file, ROOT))
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
}

Deno.test("layers: every library file belongs to the entries or a layer", () => {
  const strays: string[] = [];
  for (const entry of Deno.readDirSync(ROOT)) {
    if (
      entry.isFile && entry.name.endsWith(".ts") &&
      !ENTRIES.includes(entry.name) && !LAYERS.includes(entry.name) &&
      !CLI.includes(entry.name)
    ) strays.push(entry.name);
  }
  assertEquals(strays, [], "top-level files outside the layout");
});

Deno.test("layers: no file imports a layer that builds on its own", () => {
  const offending: string[] = [];
  for (const file of libraryFiles()) {
    if (ENTRIES.includes(file)) continue;
    for (const target of importsOf(file)) {
      if (ENTRIES.includes(target)) {
        offending.push(`${file} -> ${target} (an entry; import the layer)`);
      } else if (layerOf(target) > layerOf(file)) {
        offending.push(
          `${file} -> ${target} (${LAYERS[layerOf(target)]} builds on ${
            LAYERS[layerOf(file)]
          })`,
        );
      }
    }
  }
  assertEquals(offending, []);
});

Deno.test("layers: no import cycle between library files", () => {
  const files = libraryFiles();
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  const cycles: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "visiting");
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === "visiting") {
        cycles.push([...path.slice(path.indexOf(target)), target].join(" -> "));
      } else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  assertEquals(cycles, []);
});

Deno.test("layers: the public entries only re-export", () => {
  const notReexports: string[] = [];
  for (const entry of ENTRIES) {
    const statements = codeOf(entry).split(";").map((s) => s.trim())
      .filter((s) => s !== "");
    for (const statement of statements) {
      if (!/^export\s[\s\S]*\sfrom\s+["'][^"']+["']$/.test(statement)) {
        notReexports.push(`${entry}: ${statement.slice(0, 60)}`);
      }
    }
  }
  assertEquals(notReexports, []);
});

Deno.test("layers: the tables place files where the layout does", () => {
  // The rules above would pass vacuously if the tables were wrong.
  assertEquals(layerOf("socket/serve.ts") > layerOf("io/reader.ts"), true);
  assertEquals(layerOf("bytes/read_buffer.ts"), 1);
  assertEquals(layerOf("nowhere.ts"), -1);
  assertEquals(importsOf("socket/serve.ts").includes("socket/server.ts"), true);
  assertEquals(libraryFiles().includes("io/wait_queue.ts"), true);
});

/** cli.ts and every file of cli/. */
function cliFiles(): string[] {
  const files = ["cli.ts"];
  for (const entry of Deno.readDirSync(new URL("cli/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      files.push(`cli/${entry.name}`);
    }
  }
  return files.sort();
}

Deno.test("layers: the library never imports the command-line tool", () => {
  const offending: string[] = [];
  for (const file of libraryFiles()) {
    for (const target of importsOf(file)) {
      if (target === "cli.ts" || target.startsWith("cli/")) {
        offending.push(`${file} -> ${target}`);
      }
    }
  }
  assertEquals(offending, []);
});

Deno.test("layers: the tool reaches the library only through mod.ts", () => {
  const offending: string[] = [];
  for (const file of cliFiles()) {
    for (const target of importsOf(file)) {
      if (
        target !== "mod.ts" && target !== "cli.ts" && !target.startsWith("cli/")
      ) {
        offending.push(`${file} -> ${target} (import it from mod.ts)`);
      }
    }
  }
  assertEquals(offending, []);
  assertEquals(cliFiles().includes("cli/args.ts"), true);
});
