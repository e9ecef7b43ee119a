// Tests of udp/multicast.ts: multicast membership.

import { bindUdp, SocketError } from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
} from "../_helpers/assert.ts";
import { rejectsWithCode, runCase } from "../_helpers/udp_cases.ts";

Deno.test("multicast: join and leave a group; leave is idempotent", async () => {
  using socket = bindUdp({ loopback: true });
  const membership = await socket.joinMulticast("239.255.0.1", "127.0.0.1");
  assertEquals(membership.group, "239.255.0.1");
  await membership.setLoopback(true);
  await membership.setTTL(1);
  await assertRejects(() => membership.setTTL(256), RangeError);
  await membership.leave();
  await membership.leave();
  const again = await socket.joinMulticast("239.255.0.1"); // default interface
  socket.close();
  await again.leave(); // after close: nothing to do
  await rejectsWithCode(() => again.setLoopback(false), "ECLOSED");
});

Deno.test("multicast: bad groups and interfaces are TypeErrors; runtime refusals are SocketErrors", async () => {
  using socket = bindUdp();
  await assertRejects(() => socket.joinMulticast("10.0.0.1"), TypeError);
  await assertRejects(() => socket.joinMulticast("nonsense"), TypeError);
  await assertRejects(() => socket.joinMulticast("239.1.1.1", 3), TypeError);
  await assertRejects(
    () => socket.joinMulticast("239.1.1.1", "eth0"),
    TypeError,
  );
  await assertRejects(() => socket.joinMulticast("ff02::1", "::1"), TypeError);
  await assertRejects(() => socket.joinMulticast("ff02::1", -1), TypeError);
  // 192.0.2.99 (TEST-NET-1) is no interface of this machine.
  const error = await assertRejects(
    () => socket.joinMulticast("239.1.1.1", "192.0.2.99"),
    SocketError,
  );
  assert(["ENODEV", "EADDRNOTAVAIL"].includes(error.code), error.code);
  assertInstanceOf(error.cause, Error);
});

Deno.test("multicast: an IPv6 membership has no TTL setting", async () => {
  using socket = bindUdp({ hostname: "::1" });
  const membership = await socket.joinMulticast("ff02::1", 0);
  await assertRejects(() => membership.setTTL(1), TypeError);
  await membership.leave();
});

Deno.test("multicast: a datagram sent to the group reaches a member (in a run with --allow-net=0.0.0.0,239.255.0.3)", async () => {
  const run = await runCase("multicast-loopback");
  assert(run.success, run.stderr);
  assertEquals(run.stdout, "ok multicast-loopback\n");
});
