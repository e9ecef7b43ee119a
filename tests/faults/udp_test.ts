// Fault tests over loopback (issue #7, item 2), part 3: a UDP flood of
// 100,000 datagrams at a socket that reads slowly. Loss is allowed (UDP);
// crashes, duplicates, reordering on loopback, corrupt datagrams and
// truncation without the `truncated` flag are not.
//
// Bounded in count (100,000 datagrams) and time; only 127.0.0.1. Needs
// --unstable-net (deno.json sets it). Run with the project's test flags (see
// peer_test.ts).

import { bindUdp, MAX_DATAGRAM_BYTES, SocketError } from "../../mod.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";
import { delay, within } from "../_helpers/async.ts";

/** Every datagram: [magic u32][seq u32][length u32][checksum u32] + payload. */
const MAGIC = 0x464c4f4f; // "FLOO"
const HEADER = 16;

/** FNV-1a, 32 bits, over `bytes` from `start`, seeded with `seq`. */
function checksum(bytes: Uint8Array, start: number, seq: number): number {
  let hash = (0x811c9dc5 ^ seq) >>> 0;
  for (let i = start; i < bytes.length; i++) {
    hash = Math.imul(hash ^ bytes[i], 0x01000193);
  }
  return hash >>> 0;
}

/** The payload bytes of datagram `seq`: a cheap pattern that differs per seq. */
function fill(payload: Uint8Array, seq: number): void {
  for (let i = 0; i < payload.length; i++) {
    payload[i] = (seq * 7 + i * 13) & 255;
  }
}

/** The size of datagram `seq`: mostly small, every 200th large, some at the limit. */
function sizeOf(seq: number): number {
  if (seq % 1000 === 999) return MAX_DATAGRAM_BYTES;
  if (seq % 200 === 199) return HEADER + ((seq * 7919) % (60_000 - HEADER));
  return HEADER + ((seq * 31) % 1200);
}

function datagram(seq: number): Uint8Array {
  const bytes = new Uint8Array(sizeOf(seq));
  fill(bytes.subarray(HEADER), seq);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, seq);
  view.setUint32(8, bytes.length);
  view.setUint32(12, checksum(bytes, HEADER, seq));
  return bytes;
}

Deno.test("faults: a flood of 100,000 datagrams at a slow reader: losses only, every datagram received is whole or flagged truncated", async () => {
  const count = 100_000;
  using receiver = bindUdp();
  using sender = bindUdp();
  let sent = 0;
  let sendDone = false;
  const sendErrors: Record<string, number> = {};
  const sending = (async () => {
    try {
      for (let seq = 0; seq < count; seq++) {
        try {
          const n = await sender.sendTo(datagram(seq), receiver.addr);
          assertEquals(n, sizeOf(seq), "sendTo sends the whole datagram");
          sent++;
        } catch (error) {
          // A full send buffer may refuse a datagram: a coded SocketError.
          if (!(error instanceof SocketError)) throw error;
          sendErrors[error.code] = (sendErrors[error.code] ?? 0) + 1;
        }
      }
    } finally {
      sendDone = true;
    }
  })();

  let received = 0;
  let truncated = 0;
  let whole = 0;
  let last = -1;
  let bytes = 0;
  for (let reads = 0; reads < count; reads++) {
    // Every 5th receive offers 100 bytes only: longer datagrams must come
    // back flagged.
    const maxBytes = reads % 5 === 4 ? 100 : undefined;
    let got;
    try {
      got = await receiver.recvFrom({
        maxBytes,
        timeout: sendDone ? 500 : 1000,
      });
    } catch (error) {
      if (error instanceof SocketError && error.code === "ETIMEDOUT") {
        if (sendDone) break; // Drained: the rest was lost.
        continue;
      }
      throw error;
    }
    received++;
    const { data } = got;
    assertEquals(got.addr.port, sender.addr.port);
    assert(data.length >= HEADER, `a ${data.length}-byte datagram`);
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    assertEquals(view.getUint32(0), MAGIC, "magic");
    const seq = view.getUint32(4);
    const length = view.getUint32(8);
    assert(seq > last && seq < count, `seq ${seq} after ${last}`);
    last = seq;
    assertEquals(length, sizeOf(seq), `datagram ${seq}: length field`);
    if (got.truncated) {
      // Flagged, cut at maxBytes exactly, and only when it did not fit.
      assertEquals(
        maxBytes,
        100,
        `datagram ${seq} truncated at the default size`,
      );
      assert(
        length > 100,
        `datagram ${seq} of ${length} bytes flagged truncated`,
      );
      assertEquals(data.length, 100);
      truncated++;
    } else {
      // Not flagged: whole, every byte as sent.
      assertEquals(data.length, length, `datagram ${seq} cut without the flag`);
      assertEquals(
        view.getUint32(12),
        checksum(data, HEADER, seq),
        `datagram ${seq}: checksum`,
      );
      whole++;
      bytes += data.length;
    }
    // Read slowly: a pause every 50 datagrams, so the socket overflows.
    if (reads % 50 === 49) await delay(1);
  }
  await within(sending, 60_000, "the sender");

  assertEquals(
    sent + Object.values(sendErrors).reduce((a, b) => a + b, 0),
    count,
  );
  assert(received > 0 && received <= sent, `${received} of ${sent} received`);
  assert(whole > 0, "no whole datagram was checked");
  assert(truncated > 0, "no truncation was exercised");
  assertEquals(whole + truncated, received);
  assert(bytes > 0);

  // The socket survives the flood: a plain round trip still works.
  await sender.sendTo("ping", receiver.addr);
  let ping;
  for (let i = 0; i < 1000; i++) {
    ping = await receiver.recvFrom({ timeout: 5000 });
    if (ping.data.length === 4) break;
  }
  assertEquals(new TextDecoder().decode(ping!.data), "ping");
});
