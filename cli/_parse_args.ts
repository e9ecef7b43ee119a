// @std/cli's parseArgs, typed once: deno-std@1.4.0 ships JavaScript without
// types, so this file says what the tool takes from it and gives the rest of
// cli/ that signature.

import { parseArgs as untypedParseArgs } from "@std/cli/parse-args";

/** The options of parseArgs that the tool uses. */
export interface ParseOptions {
  /** Flags that take a value. */
  string?: readonly string[];
  /** Flags that take none. */
  boolean?: readonly string[];
  /** Short names: `{ h: "help" }`. */
  alias?: Record<string, string>;
  /** Called for every argument it was not told about; `false` drops it. */
  unknown?: (arg: string) => boolean;
}

/** What parseArgs returns with those options. */
export interface ParsedArgs {
  /** The arguments that are not flags, in order. */
  _: string[];
  [flag: string]: string | boolean | string[] | undefined;
}

/** `@std/cli`'s parseArgs with the signature of the options above. */
export const parseArgs: (
  args: readonly string[],
  options: ParseOptions,
) => ParsedArgs = untypedParseArgs;
