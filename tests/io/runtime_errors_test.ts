// Tests of io/runtime_errors.ts: the runtime's errors as SocketErrors.

import { errorCode, toSocketError } from "../../io/runtime_errors.ts";
import { SocketError } from "../../mod.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

Deno.test("runtime errors map to SocketError codes, keeping the error as cause", () => {
  const withCode = (message: string, code?: string) =>
    Object.assign(new Error(message), code === undefined ? {} : { code });
  const cases: [error: unknown, code: string][] = [
    [new Deno.errors.AddrInUse("Address already in use"), "EADDRINUSE"],
    [new Deno.errors.AddrNotAvailable("x"), "EADDRNOTAVAIL"],
    [new Deno.errors.NotCapable("Requires net access"), "EPERM"],
    [new Deno.errors.PermissionDenied("Permission denied"), "EPERM"],
    [new Deno.errors.BadResource("Socket has been closed"), "ECLOSED"],
    [new Deno.errors.Interrupted("operation canceled"), "ECLOSED"],
    [new Deno.errors.ConnectionRefused("x"), "ECONNREFUSED"],
    [new Deno.errors.NetworkUnreachable("x"), "ENETUNREACH"],
    [new Deno.errors.TimedOut("x"), "ETIMEDOUT"],
    [withCode("Message too long (os error 90)", "EMSGSIZE"), "EMSGSIZE"],
    [withCode("Message too long (os error 40)"), "EMSGSIZE"],
    [withCode("Invalid argument (os error 22)", "EINVAL"), "EINVAL"],
    [withCode("Address family not supported by protocol"), "EAFNOSUPPORT"],
    [withCode("Protocol not available (os error 92)"), "ENOPROTOOPT"],
    [withCode("No such device (os error 19)"), "ENODEV"],
    [withCode("No route to host"), "EHOSTUNREACH"],
    [withCode("failed to lookup address information"), "ENOTFOUND"],
    [withCode("something new"), "EUNKNOWN"],
    [withCode("lower-case code", "weird"), "EUNKNOWN"],
    ["a thrown string", "EUNKNOWN"],
    [null, "EUNKNOWN"],
  ];
  for (const [error, code] of cases) {
    assertEquals(errorCode(error), code, String(error));
    const socketError = toSocketError(error, "do it");
    assertEquals(socketError.code, code);
    assertEquals(socketError.cause, error);
    assert(socketError.message.startsWith("Cannot do it: "));
  }
  const original = new SocketError("EMSGSIZE", "already wrapped");
  assertEquals(toSocketError(original, "again"), original);
  assertEquals(errorCode(original), "EMSGSIZE");
});
