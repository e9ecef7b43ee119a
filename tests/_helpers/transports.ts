// What tests over TLS and Unix domain sockets share: the certificate
// fixtures (tests/fixtures/, made by make_certs.sh) and Unix socket paths.
//
// Unix socket paths and permissions: Deno 2.9.6 wants
// `--allow-net=unix:<absolute path>` for each socket, exact paths only
// (deno#36762), besides --allow-read/--allow-write. So the test task makes a
// fresh directory, exports it as WIRE_SOCKET_DIR and grants the socket names
// `0.sock` .. `7.sock` in it (see deno.json); `socketPath(n)` hands them
// out. The directory is removed at the end of each test file that used it
// (when empty) and made again by the next. Run by hand, the same applies:
//
//   export WIRE_SOCKET_DIR=$(mktemp -d)
//   deno test --allow-net=127.0.0.1,[::1],localhost,unix:$WIRE_SOCKET_DIR/0.sock,... ...
//
// or with an unscoped --allow-net, in which case a temporary directory is
// made when WIRE_SOCKET_DIR is not set.

const FIXTURES = new URL("../fixtures/", import.meta.url);

function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(name, FIXTURES));
}

/** The test CA's certificate (PEM): what clients put in `caCerts`. */
export const CA_CERT: string = fixture("ca.pem");
/** A certificate for localhost, 127.0.0.1 and ::1, signed by the test CA. */
export const CERT: string = fixture("localhost.pem");
/** The private key of {@linkcode CERT}. */
export const KEY: string = fixture("localhost.key");
/** A self-signed certificate for the same names, which no client trusts. */
export const UNTRUSTED_CERT: string = fixture("untrusted.pem");
/** The private key of {@linkcode UNTRUSTED_CERT}. */
export const UNTRUSTED_KEY: string = fixture("untrusted.key");

/** The fixture files' paths, for Python peers. */
export const FIXTURE_PATHS = {
  ca: new URL("ca.pem", FIXTURES).pathname,
  cert: new URL("localhost.pem", FIXTURES).pathname,
  key: new URL("localhost.key", FIXTURES).pathname,
  untrustedCert: new URL("untrusted.pem", FIXTURES).pathname,
  untrustedKey: new URL("untrusted.key", FIXTURES).pathname,
} as const;

/** How many socket names the test task grants. */
export const SOCKET_SLOTS = 8;

let socketDir: string | undefined;

/**
 * The absolute path of Unix socket number `slot` (0..7) for this test run.
 * No file is there unless a test put one (a listener deletes its socket file
 * when it closes; a test that leaves a stale one removes it).
 */
export function socketPath(slot = 0): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SOCKET_SLOTS) {
    throw new RangeError(
      `socket slot must be 0..${SOCKET_SLOTS - 1}, got ${slot}`,
    );
  }
  if (socketDir === undefined) {
    const dir = Deno.env.get("WIRE_SOCKET_DIR") ??
      Deno.makeTempDirSync({ prefix: "wire-socket-" });
    // Made by the test task; removed by the last test file that used it
    // (when empty), made again by the next one.
    Deno.mkdirSync(dir, { recursive: true });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir);
      } catch {
        // Not empty, or gone already.
      }
    });
    socketDir = dir;
  }
  const path = `${socketDir}/${slot}.sock`;
  const { state } = Deno.permissions.querySync({
    name: "net",
    host: `unix:${path}`,
  });
  if (state !== "granted") {
    throw new Error(
      `This test needs --allow-net=unix:${path}: run it with \`deno task test\`, ` +
        `which makes WIRE_SOCKET_DIR and grants its socket paths, or see ` +
        `tests/_helpers/transports.ts`,
    );
  }
  return path;
}

/** Whether a file (of any kind) is at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Removes the file at `path` if there is one. */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
