// UDP cases that need other permissions than the test run has: an address
// NOT granted (127.0.0.2, to see EPERM), or more than `deno task test`
// grants (0.0.0.0 and a multicast group). The udp/ tests run each one in its
// own `deno run` with exactly the --allow-net it needs (`runCase`), so the
// case runs, and passes or fails, whatever permissions the test run itself
// has: none of them is ever skipped.
//
//   deno run --allow-net=127.0.0.1 tests/_helpers/udp_cases.ts bindUdp-EPERM

import { bindUdp, SocketError } from "../../mod.ts";
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertThrows,
} from "./assert.ts";
import { text } from "./bytes.ts";

/** Awaits `promise()`'s SocketError rejection and checks its code. */
export async function rejectsWithCode(
  promise: () => Promise<unknown>,
  code: string,
): Promise<SocketError> {
  const error = await assertRejects(promise, SocketError);
  assertEquals(error.code, code);
  return error;
}

/** A case and the one --allow-net list it runs with. */
interface Case {
  allowNet: string;
  fn(): void | Promise<void>;
}

/** The cases, by name. */
export const CASES: Record<string, Case> = {
  "bindUdp-EPERM": {
    allowNet: "127.0.0.1",
    fn() {
      const error = assertThrows(
        () => bindUdp({ hostname: "127.0.0.2" }),
        SocketError,
      );
      assertEquals(error.code, "EPERM");
      assertInstanceOf(error.cause, Deno.errors.NotCapable);
    },
  },
  "sendTo-EPERM": {
    allowNet: "127.0.0.1",
    async fn() {
      using socket = bindUdp();
      const error = await rejectsWithCode(
        () => socket.sendTo("x", { hostname: "127.0.0.2", port: 9 }),
        "EPERM",
      );
      assertInstanceOf(error.cause, Deno.errors.NotCapable);
    },
  },
  "multicast-loopback": {
    allowNet: "0.0.0.0,239.255.0.3,127.0.0.1",
    async fn() {
      using member = bindUdp({ hostname: "0.0.0.0", loopback: true });
      member.timeout = 2000;
      const membership = await member.joinMulticast(
        "239.255.0.3",
        "127.0.0.1",
      );
      using sender = bindUdp({ loopback: true });
      await sender.sendTo("to the group", {
        hostname: "239.255.0.3",
        port: member.addr.port,
      });
      const datagram = await member.recvFrom();
      assertEquals(text(datagram.data), "to the group");
      await membership.leave();
    },
  },
};

/** What a case run printed; it printed `ok <name>` last if it passed. */
export interface CaseRun {
  success: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs case `name` in `deno run --no-prompt --allow-net=<its list>` (nothing
 * else granted); kills it after `timeoutMs`.
 */
export async function runCase(
  name: string,
  timeoutMs = 30_000,
): Promise<CaseRun> {
  const root = new URL("../..", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--unstable-net",
      `--config=${new URL("deno.json", root).pathname}`,
      `--allow-net=${CASES[name].allowNet}`,
      import.meta.url,
      name,
    ],
    cwd: root.pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  try {
    const output = await child.output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const stderr = decode(output.stderr) +
      (expired ? `\n(killed after ${timeoutMs} ms)` : "");
    return { success: output.success, stdout: decode(output.stdout), stderr };
  } finally {
    clearTimeout(timer);
  }
}

if (import.meta.main) {
  const [name] = Deno.args;
  const found = CASES[name];
  if (!found) {
    throw new Error(
      `No case ${JSON.stringify(name)}; cases: ${
        Object.keys(CASES).join(", ")
      }`,
    );
  }
  await found.fn();
  console.log(`ok ${name}`);
}
