// Tests of udp/bind.ts: bindUdp().

import { bindUdp, SocketError } from "../../mod.ts";
import { unstableNetError } from "../../udp/bind.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "../_helpers/assert.ts";
import { text } from "../_helpers/bytes.ts";
import { runCase } from "../_helpers/udp_cases.ts";

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------
// Round trips

Deno.test("bindUdp() binds 127.0.0.1 on a free port", () => {
  using socket = bindUdp();
  assertEquals(socket.addr.transport, "udp");
  assertEquals(socket.addr.hostname, "127.0.0.1");
  assert(socket.addr.port > 0);
});

// ---------------------------------------------------------------------------
// Runtime errors become SocketErrors

Deno.test("bindUdp: a taken port is EADDRINUSE with the runtime's error as cause", () => {
  using first = bindUdp();
  const error = assertThrows(
    () => bindUdp({ port: first.addr.port }),
    SocketError,
  );
  assertEquals(error.code, "EADDRINUSE");
  assertInstanceOf(error.cause, Deno.errors.AddrInUse);
  assertStringIncludes(error.message, `127.0.0.1:${first.addr.port}`);
});

// The next three run in a `deno run` with exactly the --allow-net they need
// (tests/_helpers/udp_cases.ts), whatever this test run was granted.

Deno.test("bindUdp: an address without --allow-net is EPERM", async () => {
  const run = await runCase("bindUdp-EPERM");
  assert(run.success, run.stderr);
  assertEquals(run.stdout, "ok bindUdp-EPERM\n");
});

// ---------------------------------------------------------------------------
// Without --unstable-net, and with a Python peer

async function runDeno(
  script: string,
  args: string[],
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--quiet", ...args, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(script));
  await writer.close();
  return await child.output();
}

Deno.test("without --unstable-net, bindUdp names the flag and the deno.json setting", async () => {
  const udpUrl = new URL("../../udp.ts", import.meta.url).href;
  const script = `
    import { bindUdp } from ${JSON.stringify(udpUrl)};
    try {
      bindUdp();
      console.log(JSON.stringify({ bound: true }));
    } catch (error) {
      console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
    }
  `;
  const output = await runDeno(script, ["--allow-net=127.0.0.1"]);
  assert(output.success, text(output.stderr));
  const result = JSON.parse(text(output.stdout));
  assertEquals(result.name, "SocketError");
  assertEquals(result.code, "ENOSYS");
  assertStringIncludes(result.message, "--unstable-net");
  assertStringIncludes(result.message, '"unstable": ["net"]');
  assertStringIncludes(result.message, "deno.json");
  assertEquals(result.message, unstableNetError().message);
});

Deno.test("without --unstable-net, importing mod.ts works", async () => {
  const modUrl = new URL("../../mod.ts", import.meta.url).href;
  const script = `
    import * as mod from ${JSON.stringify(modUrl)};
    console.log(typeof mod.bindUdp, typeof mod.UdpSocket, typeof Deno.listenDatagram);
  `;
  const output = await runDeno(script, []);
  assert(output.success, text(output.stderr));
  assertEquals(text(output.stdout).trim(), "function function undefined");
});
