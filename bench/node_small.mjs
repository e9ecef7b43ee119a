// Node baselines for bench/net.ts.
//
// "small": 1,000,000 frames of 32 bytes, one socket.write per frame (what a
// Node user writes), received by a hand-written length-prefix decoder.
//
//   node bench/node_small.mjs server          prints "PORT <n>"
//   node bench/node_small.mjs client PORT     prints {"seconds":..,"framesPerSecond":..}
//
// "concurrency": the server only (bench/net_peer.ts's raw client drives it):
// 500 connections, each frame (4-byte big-endian length, payload) written
// back as it arrives; once every connection has ended it prints the process's
// CPU per round trip, as the Deno servers of that case do.
//
//   node bench/node_small.mjs concurrency-server   prints "PORT <n>", then {"serverCpuMicrosPerTrip":..}
//
// "connections": the same echo server for 20,000 short connections, one
// round trip each; it prints the CPU per connection.
//
//   node bench/node_small.mjs connections-server   prints "PORT <n>", then {"serverCpuMicrosPerConnection":..}

import net from "node:net";

const SCALE = Number(process.env.SCALE ?? "1");
const FRAMES = Math.max(1, Math.round(1_000_000 * SCALE));
const PAYLOAD = 32;
const CONC_CONNECTIONS = 500;
const CONC_TRIPS = Math.max(1, Math.round(200 * SCALE));
const SHORT_CONNECTIONS = Math.max(1, Math.round(20_000 * SCALE));
const [role, portArg] = process.argv.slice(2);

/**
 * Calls `onFrame` with each whole length-prefixed frame of `carry` followed
 * by `chunk`; returns the bytes of the frame begun, to carry to the next chunk.
 */
function eachFrame(carry, chunk, onFrame) {
  const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
  let offset = 0;
  while (data.length - offset >= 4) {
    const length = data.readUInt32BE(offset);
    if (data.length - offset - 4 < length) break;
    onFrame(data.subarray(offset, offset + 4 + length));
    offset += 4 + length;
  }
  return data.subarray(offset);
}

if (role === "server") {
  const server = net.createServer((socket) => {
    let frames = 0;
    let carry = Buffer.alloc(0);
    const count = () => frames++;
    socket.on("data", (chunk) => {
      carry = eachFrame(carry, chunk, count);
      if (frames === FRAMES) {
        socket.end(Buffer.alloc(1));
        server.close();
      }
    });
  });
  server.listen(0, "127.0.0.1", () => {
    console.log(`PORT ${server.address().port}`);
  });
} else if (role === "client") {
  const socket = net.connect(Number(portArg), "127.0.0.1", () => {
    const start = performance.now();
    const payload = Buffer.alloc(PAYLOAD, 1);
    for (let i = 0; i < FRAMES; i++) {
      const frame = Buffer.allocUnsafe(4 + PAYLOAD);
      frame.writeUInt32BE(PAYLOAD, 0);
      payload.copy(frame, 4);
      socket.write(frame);
    }
    socket.once("data", () => {
      const seconds = (performance.now() - start) / 1000;
      console.log(
        JSON.stringify({ seconds, framesPerSecond: FRAMES / seconds }),
      );
      socket.destroy();
    });
  });
} else if (role === "concurrency-server" || role === "connections-server") {
  const short = role === "connections-server";
  const connections = short ? SHORT_CONNECTIONS : CONC_CONNECTIONS;
  let ended = 0;
  let cpu;
  const server = net.createServer({ noDelay: true }, (socket) => {
    let carry = Buffer.alloc(0);
    const echo = (frame) => socket.write(frame);
    socket.on("data", (chunk) => {
      carry = eachFrame(carry, chunk, echo);
    });
    socket.on("end", () => socket.end());
    socket.on("close", () => {
      if (++ended < connections) return;
      const micros = process.cpuUsage(cpu);
      const used = micros.user + micros.system;
      console.log(JSON.stringify(
        short ? { serverCpuMicrosPerConnection: used / connections } : {
          serverCpuMicrosPerTrip: used / (CONC_CONNECTIONS * CONC_TRIPS),
        },
      ));
      server.close();
    });
  });
  server.listen(0, "127.0.0.1", () => {
    cpu = process.cpuUsage();
    console.log(`PORT ${server.address().port}`);
  });
} else {
  console.error(
    "usage: node bench/node_small.mjs server | client PORT | concurrency-server | connections-server",
  );
  process.exit(2);
}
