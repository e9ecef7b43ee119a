// A tour of @wire/socket in one process, on 127.0.0.1 with ports the OS
// picks: a TCP echo server and client, the sticky-packet problem and its fix,
// UDP's empty and truncated datagrams, and a checked file transfer. It runs
// the code of the other examples (echo.ts, echo_client.ts, sticky_packets.ts,
// udp_echo.ts, file_transfer.ts), prints what happens, and exits 0.
//
// Run: deno run --allow-net=127.0.0.1 --allow-read=./.demo --allow-write=./.demo examples/demo.ts
//
// (`deno task demo` runs exactly that.) Every port is picked by the OS, so
// the net permission is all of 127.0.0.1 but no other host. The file
// transfer works in a temporary directory made with `Deno.makeTempDir` inside
// ./.demo (relative to where it runs), which it creates and removes
// afterwards; the system temp directory is not used, because where it lies
// (TMPDIR) varies from machine to machine and `--allow-write` would have to
// cover it. UDP needs `--unstable-net`, which this project's deno.json turns
// on.

import { parseArgs } from "@std/cli/parse-args";
import { connect, message } from "../mod.ts";
import { echoServer } from "./echo.ts";
import { echoClient } from "./echo_client.ts";
import { stickyPackets } from "./sticky_packets.ts";
import { SAMPLE_MESSAGES, udpEchoClient, udpEchoServer } from "./udp_echo.ts";
import {
  receiveFiles,
  sendFile,
  sha256File,
  TransferError,
} from "./file_transfer.ts";

/** Where the file transfer's temporary directory goes: see the header. */
const DEMO_ROOT = "./.demo";

const indent = (prefix: string) => (line: string) =>
  console.log(`  ${prefix}${line}`);

async function tcpEcho(): Promise<void> {
  console.log("== 1. TCP echo: a server with serve(), a client with frames ==");
  const server = echoServer({ log: indent("server: ") });
  console.log(`  server listening on 127.0.0.1:${server.addr.port}`);
  await echoClient({
    port: server.addr.port,
    messages: ["hello", "", "a longer message, echoed whole"],
    onReply: (sent, reply) =>
      console.log(
        `  client: sent ${JSON.stringify(sent)}, got back ${
          JSON.stringify(reply)
        }`,
      ),
  });
  await server.shutdown();
  console.log("  server shut down");
}

async function sticky(): Promise<void> {
  console.log("\n== 2. Sticky packets: TCP is a byte stream ==");
  await stickyPackets({ log: indent("") });
}

async function udp(): Promise<void> {
  console.log(
    "\n== 3. UDP: datagrams keep their boundaries, even empty ones ==",
  );
  const server = udpEchoServer({ log: indent("server: ") });
  console.log(`  udp echo server on 127.0.0.1:${server.addr.port}`);
  await udpEchoClient({
    port: server.addr.port,
    messages: SAMPLE_MESSAGES,
    maxBytes: 16,
    log: indent("client: "),
  });
  server.close();
  await server.finished;
}

/** A fresh directory inside ./.demo, which is created if missing. */
async function makeWorkDir(): Promise<string> {
  for (let attempt = 1;; attempt++) {
    await Deno.mkdir(DEMO_ROOT, { recursive: true });
    try {
      return await Deno.makeTempDir({ dir: DEMO_ROOT, prefix: "demo-" });
    } catch (error) {
      // Another demo, finishing, removed ./.demo in between: make it again.
      if (!(error instanceof Deno.errors.NotFound) || attempt === 3) {
        throw error;
      }
    }
  }
}

async function fileTransfer(): Promise<void> {
  console.log("\n== 4. File transfer: header + streamed body, checked ==");
  const root = await makeWorkDir();
  console.log(`  working in ${root} (removed at the end)`);
  try {
    const inbox = `${root}/inbox`;
    const source = `${root}/sample.bin`;
    {
      // 1 MiB of random bytes, written in chunks.
      using file = await Deno.open(source, { write: true, createNew: true });
      const chunk = new Uint8Array(64 * 1024);
      for (let i = 0; i < 16; i++) {
        crypto.getRandomValues(chunk);
        for (let n = 0; n < chunk.length;) {
          n += await file.write(chunk.subarray(n));
        }
      }
    }
    const server = await receiveFiles({
      dir: inbox,
      progress: false,
      log: indent("receiver: "),
    });
    const port = server.addr.port;
    try {
      const sent = await sendFile({ port, path: source, progress: false });
      console.log(
        `  sender: ${sent.name} (${sent.size} bytes) accepted, sha256 ${
          sent.sha256.slice(0, 16)
        }...`,
      );
      const stored = await sha256File(`${inbox}/${sent.name}`);
      console.log(
        `  the stored copy's sha256 ${
          stored === sent.sha256 ? "matches" : "DIFFERS"
        }`,
      );
      if (stored !== sent.sha256) throw new Error("the copy differs");

      try {
        await sendFile({ port, path: source, progress: false });
      } catch (error) {
        if (!(error instanceof TransferError)) throw error;
        console.log(`  sender: sending it again is refused: ${error.message}`);
      }

      // A hostile name, sent by hand: the receiver refuses it.
      const framing = message();
      await using socket = await connect({ port });
      await socket.sendFrame(
        { name: "../escape.txt", size: 0, sha256: "0".repeat(64) },
        framing.head,
      );
      const answer = await socket.recvFrame(framing);
      console.log(
        `  a raw client asking for "../escape.txt" is told: ${answer?.header.status}: ${answer?.header.error}`,
      );
    } finally {
      await server.shutdown();
    }
    const left = [];
    for await (const entry of Deno.readDir(inbox)) left.push(entry.name);
    console.log(`  the inbox holds: ${left.join(", ")} (no partial files)`);
  } finally {
    await Deno.remove(root, { recursive: true });
    // Leaves ./.demo in place if another demo is using it.
    await Deno.remove(DEMO_ROOT).catch(() => {});
  }
}

if (import.meta.main) {
  let wrong = false;
  const args: { help: boolean; _: string[] } = parseArgs(Deno.args, {
    boolean: ["help"],
    string: ["_"],
    unknown: () => (wrong = true),
  });
  if (args.help || wrong) {
    console.log(`Usage: deno task demo
   or: deno run --allow-net=127.0.0.1 --allow-read=./.demo --allow-write=./.demo examples/demo.ts

A tour of @wire/socket on 127.0.0.1 with ports the OS picks; takes no
options (--host and --port do not apply: every port is ephemeral).`);
    Deno.exit(wrong ? 2 : 0);
  }
  await tcpEcho();
  await sticky();
  await udp();
  await fileTransfer();
  console.log("\ndone: every step worked");
}
