// The one way to wait (io/wait_queue.ts): the queue of pending calls and the
// deadline helper, alone and through every public thing that waits on them
// (receives, UDP receives, accept, connects).

import { WaitQueue, withDeadline } from "../../io/wait_queue.ts";
import { bindUdp, connect, listen, serve, SocketError } from "../../mod.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStrictEquals,
} from "../_helpers/assert.ts";
import { delay, isPending, rejection } from "../_helpers/async.ts";

function code(error: unknown): string {
  assertInstanceOf(error, SocketError);
  return error.code;
}

Deno.test("wait queue: calls are served in call order", async () => {
  const queue = new WaitQueue<string, string>();
  const first = queue.wait("a", {}, "test");
  const second = queue.wait("b", {}, "test");
  assertEquals(queue.length, 2);
  assertEquals(queue.head, "a");
  queue.resolveHead("first");
  assertEquals(queue.head, "b");
  queue.rejectHead(new Error("second"));
  assertEquals(await first, "first");
  assertEquals(((await rejection(second)) as Error).message, "second");
  assertEquals(queue.length, 0);
  assertEquals(queue.head, undefined);
});

Deno.test("wait queue: a call that times out leaves, the others stay in order", async () => {
  const left: boolean[] = [];
  const queue = new WaitQueue<number, number>((wasHead) => left.push(wasHead));
  const first = queue.wait(1, {}, "test");
  const timed = queue.wait(2, { timeout: 10 }, "wait for two");
  const third = queue.wait(3, {}, "test");
  const error = await rejection(timed);
  assertEquals(code(error), "ETIMEDOUT");
  assertEquals(
    (error as Error).message,
    "Cannot wait for two: timed out after 10 ms",
  );
  assertEquals(left, [false]);
  queue.resolveHead(10);
  queue.resolveHead(30);
  assertEquals([await first, await third], [10, 30]);
});

Deno.test("wait queue: an abort rejects with ECANCELED and the reason as cause; the head's leaving is reported", async () => {
  const left: boolean[] = [];
  const queue = new WaitQueue<number, number>((wasHead) => left.push(wasHead));
  const controller = new AbortController();
  const head = queue.wait(1, { signal: controller.signal }, "test");
  const next = queue.wait(2, {}, "test");
  controller.abort("stop");
  const error = await rejection(head);
  assertEquals(code(error), "ECANCELED");
  assertEquals((error as Error).cause, "stop");
  assertEquals(left, [true]);
  assertEquals(queue.head, 2);
  queue.resolveHead(2);
  assertEquals(await next, 2);
  // An aborted signal is refused at once, without queueing.
  assertEquals(
    code(await rejection(queue.wait(3, controller, "test"))),
    "ECANCELED",
  );
  assertEquals(queue.length, 0);
});

Deno.test("wait queue: after calls are served or leave, later calls keep call order and count", async () => {
  const left: boolean[] = [];
  const queue = new WaitQueue<number, number>((wasHead) => left.push(wasHead));
  // Served one at a time (a socket's usual receive): the queue empties each time.
  for (let i = 0; i < 3; i++) {
    const call = queue.wait(i, {}, "test");
    assertEquals([queue.length, queue.head], [1, i]);
    queue.resolveHead(i * 10);
    assertEquals(await call, i * 10);
    assertEquals([queue.length, queue.head], [0, undefined]);
  }
  // The head served, then the last of those behind it leaves, then more join.
  const a = queue.wait(1, {}, "test");
  const b = queue.wait(2, {}, "test");
  const timed = queue.wait(3, { timeout: 5 }, "test");
  queue.resolveHead(10);
  assertEquals(code(await rejection(timed)), "ETIMEDOUT");
  assertEquals(left, [false]);
  const c = queue.wait(4, {}, "test");
  assertEquals([queue.length, queue.head], [2, 2]);
  queue.resolveHead(20);
  // The only call left leaves as the head: the queue is empty again.
  const controller = new AbortController();
  const d = queue.wait(5, { signal: controller.signal }, "test");
  queue.resolveHead(40);
  controller.abort();
  assertEquals(code(await rejection(d)), "ECANCELED");
  assertEquals(left, [false, true]);
  assertEquals([queue.length, queue.head], [0, undefined]);
  const e = queue.wait(6, {}, "test");
  assertEquals(queue.head, 6);
  queue.resolveHead(60);
  assertEquals([await a, await b, await c, await e], [10, 20, 40, 60]);
});

Deno.test("wait queue: a queue that never empties keeps call order over many calls", async () => {
  const queue = new WaitQueue<number, number>();
  const calls = [queue.wait(0, {}, "test"), queue.wait(1, {}, "test")];
  for (let i = 2; i < 1000; i++) {
    queue.resolveHead(queue.head! * 10);
    calls.push(queue.wait(i, {}, "test"));
    assertEquals(queue.length, 2);
  }
  queue.resolveHead(9980);
  queue.resolveHead(9990);
  assertEquals(await Promise.all(calls), calls.map((_, i) => i * 10));
});

Deno.test("wait queue: close settles every call at once and disarms their timers", async () => {
  const queue = new WaitQueue<number, number>();
  const calls = [
    queue.wait(1, { timeout: 60_000 }, "test"),
    queue.wait(2, { signal: new AbortController().signal }, "test"),
    queue.wait(3, {}, "test"),
  ];
  const reason = new SocketError("ECLOSED", "closed");
  queue.close(reason);
  for (const call of calls) assertStrictEquals(await rejection(call), reason);
  assertEquals(queue.length, 0);
  // The sanitizers fail this test if a timer or listener were left behind.
});

Deno.test("withDeadline: a wait that goes on rejects at the deadline; the work keeps its result", async () => {
  const work = Promise.withResolvers<string>();
  const bounded = withDeadline(work.promise, { timeout: 10 }, "wait");
  assertEquals(code(await rejection(bounded)), "ETIMEDOUT");
  work.resolve("late");
  assertEquals(await work.promise, "late");
  // Without a bound, the work itself is returned.
  assertStrictEquals(withDeadline(work.promise, {}, "wait"), work.promise);
});

Deno.test("withDeadline: an operation is stopped by its signal and settles once stopped", async () => {
  let stopped = false;
  const operation = (signal: AbortSignal) =>
    new Promise<string>((_, reject) => {
      signal.addEventListener("abort", () => {
        stopped = true;
        reject(new Error("interrupted"));
      });
    });
  const error = await rejection(
    withDeadline(operation, { timeout: 10 }, "dial"),
  );
  assert(stopped);
  assertEquals(code(error), "ETIMEDOUT");
  assertEquals(((error as Error).cause as Error).message, "interrupted");
  const controller = new AbortController();
  const aborted = withDeadline(operation, controller, "dial");
  controller.abort("user");
  const abortError = await rejection(aborted);
  assertEquals(code(abortError), "ECANCELED");
  assertEquals((abortError as Error).cause, "user");
  assertEquals(
    await withDeadline(() => Promise.resolve(7), { timeout: 50 }, "x"),
    7,
  );
});

Deno.test("accept: a timed-out accept loses no connection; the next accept takes it", async () => {
  await using server = listen();
  const error = await rejection(server.accept({ timeout: 20 }));
  assertEquals(code(error), "ETIMEDOUT");
  await using client = await connect({ port: server.addr.port });
  await using accepted = await server.accept({ timeout: 5000 });
  assertEquals(accepted.remoteAddr.port, client.localAddr.port);
});

Deno.test("accept: concurrent accepts in call order, an aborted one leaves its turn to the next", async () => {
  await using server = listen();
  const controller = new AbortController();
  const aborted = server.accept({ signal: controller.signal });
  const next = server.accept();
  controller.abort();
  assertEquals(code(await rejection(aborted)), "ECANCELED");
  assert(await isPending(next));
  await using client = await connect({ port: server.addr.port });
  await using accepted = await next;
  assertEquals(accepted.remoteAddr.port, client.localAddr.port);
  server.close();
  assertEquals(code(await rejection(server.accept())), "ECLOSED");
});

Deno.test("accept: close() rejects waiting accepts with ECLOSED and ends a loop", async () => {
  const server = listen();
  const waiting = [server.accept(), server.accept({ timeout: 60_000 })];
  const loop = (async () => {
    let n = 0;
    for await (const socket of server) {
      n++;
      socket.close();
    }
    return n;
  })();
  await delay(10);
  server.close();
  for (const call of waiting) {
    assertEquals(code(await rejection(call)), "ECLOSED");
  }
  assertEquals(await loop, 0);
  await server.finished;
});

Deno.test("serve: the server it returns hands its connections to the handler only", async () => {
  const server = serve({ port: 0 }, async (socket) => {
    await socket.send("hi");
  });
  assertEquals(code(await rejection(server.accept())), "EBUSY");
  await using client = await connect({ port: server.addr.port });
  assertEquals(new TextDecoder().decode(await client.recvExactly(2)), "hi");
  await server.shutdown();
  await server.finished;
});

Deno.test("udp: a timed-out receive and an aborted one lose no datagram", async () => {
  using a = bindUdp();
  using b = bindUdp();
  assertEquals(code(await rejection(b.recvFrom({ timeout: 10 }))), "ETIMEDOUT");
  const controller = new AbortController();
  const aborted = b.recvFrom({ signal: controller.signal });
  const next = b.recvFrom();
  controller.abort();
  assertEquals(code(await rejection(aborted)), "ECANCELED");
  await a.sendTo("kept", b.addr);
  assertEquals(new TextDecoder().decode((await next).data), "kept");
});
