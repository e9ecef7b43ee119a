// A PostgreSQL client with nothing but this module: it connects, logs in,
// runs one simple Query given on the command line, prints the rows as a
// table, and says goodbye. No driver: PostgreSQL's wire protocol (3.0) is
// frames, like everything else here, only shaped its own way:
//
//   StartupMessage   int32 length (counting itself) | int32 196608 | name\0value\0 … \0
//                    lengthPrefixed({ lengthIncludesHeader: true })
//   every other one  type byte | int32 length (counting itself, not the type) | body
//                    lengthField({ offset: 1, headerBytes: 4, adjustment: -4 })
//
// Authentication: "trust" (no password) and "password" (cleartext; the
// password goes over the wire as is, so use it on loopback only). A server
// that asks for anything else (SCRAM-SHA-256, the default since PostgreSQL 14;
// MD5; Kerberos, GSSAPI, SSPI) is refused with a message that says so: use
// psql or a real driver for those. No TLS either (no SSLRequest is sent).
//
// Run: deno run --allow-net=127.0.0.1:5432 --allow-env=PGPASSWORD examples/postgres.ts --user postgres "SELECT 1 AS one"
//
// Options: --host (default 127.0.0.1), --port (default 5432), --user
// (required), --database (default: the user's name), --password (default:
// $PGPASSWORD). Another host or port must be named in --allow-net the same
// way. Without --allow-env=PGPASSWORD the variable is not read (and not
// asked for). Exit status: 0, or 1 with the server's error (ErrorResponse) or
// the connection's on stderr, or 2 for a usage error.
//
// Message formats: https://www.postgresql.org/docs/15/protocol-message-formats.html

import {
  connect,
  FrameError,
  lengthField,
  lengthPrefixed,
  SocketError,
  type StreamSocket,
} from "../mod.ts";
import { fail, parseCli, usageError } from "./_cli.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every message after the startup, both ways: type, int32 length counting itself, body. */
export const pgMessage = lengthField({
  offset: 1,
  headerBytes: 4,
  adjustment: -4,
});

/** The StartupMessage: an int32 length counting itself, then the body (no type byte). */
export const pgStartup = lengthPrefixed({ lengthIncludesHeader: true });

/** Protocol version 3.0, as the StartupMessage says it: 3 << 16. */
const PROTOCOL_3_0 = 196608;

/** The server sent an ErrorResponse: `fields` by their one-letter code. */
export class PgServerError extends Error {
  /** The SQLSTATE code (`"42P01"`), field `C`. */
  readonly code: string;
  /** Every field of the ErrorResponse: `S` severity, `M` message, `D` detail, `H` hint… */
  readonly fields: Record<string, string>;

  constructor(fields: Record<string, string>) {
    const severity = fields.V ?? fields.S ?? "ERROR";
    let text = `${severity} ${fields.C ?? "?????"}: ${
      fields.M ?? "(no message)"
    }`;
    if (fields.D) text += `\nDETAIL: ${fields.D}`;
    if (fields.H) text += `\nHINT: ${fields.H}`;
    super(text);
    this.name = "PgServerError";
    this.code = fields.C ?? "";
    this.fields = fields;
  }
}

/** This client cannot go on: an authentication method it does not speak, a missing password, a message it did not expect. */
export class PgClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PgClientError";
  }
}

/** One result of a query: a table (columns and rows) or just a command tag. */
export interface PgResult {
  /** The CommandComplete tag: `"SELECT 2"`, `"CREATE TABLE"`. */
  command: string;
  /** The column names, when the statement returns rows (RowDescription). */
  columns?: string[];
  /** Whether each column holds a number (printed right-aligned). */
  numeric?: boolean[];
  /** The rows, each value as text; `null` for SQL NULL. */
  rows: (string | null)[][];
}

/** Options for {@linkcode pgQuery}. */
export interface PgQueryOptions {
  /** The server's address; default "127.0.0.1". */
  hostname?: string;
  /** The server's port; default 5432. */
  port?: number;
  /** The user to log in as. */
  user: string;
  /** The database; default: the user's name (as the server does). */
  database?: string;
  /** For "password" (cleartext) authentication. */
  password?: string;
  /** The SQL: one or more statements, sent as one simple Query. */
  sql: string;
  /** ms for the connect and for each message; default 10000. */
  timeout?: number;
  /** Called with each result as its CommandComplete arrives. */
  onResult?: (result: PgResult) => void;
  /** Called with each NoticeResponse; default: printed to stderr. */
  onNotice?: (notice: string) => void;
}

/**
 * Connects, logs in, runs `sql` as a simple Query and terminates.
 *
 * @returns The results, one per statement.
 * @throws {PgServerError} The server refused the login or the query (after
 *   the results of the statements before the failing one).
 * @throws {PgClientError} An authentication method other than trust or
 *   cleartext password, or no password when one is asked for.
 */
export async function pgQuery(options: PgQueryOptions): Promise<PgResult[]> {
  const timeout = options.timeout ?? 10_000;
  const onNotice = options.onNotice ??
    ((notice: string) => console.error(notice));
  await using socket = await connect({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 5432,
    framing: pgMessage,
    timeout,
  });
  socket.timeout = timeout;

  const startup = [
    int32(PROTOCOL_3_0),
    ...parameters({
      user: options.user,
      database: options.database ?? options.user,
      client_encoding: "UTF8",
      application_name: "wire-socket-example",
    }),
    new Uint8Array(1),
  ];
  await socket.sendFrame(concat(startup), pgStartup);
  await logIn(socket, options.user, options.password);
  for (;;) { // ParameterStatus, BackendKeyData…, then ReadyForQuery
    const message = await receive(socket);
    if (message.type === "Z") break;
    if (message.type === "E") throw new PgServerError(message.fields());
    if (message.type === "N") {
      onNotice(new PgServerError(message.fields()).message);
    }
    // "S" ParameterStatus, "K" BackendKeyData, "v" NegotiateProtocolVersion: not needed here.
  }

  await socket.sendFrame(frontend("Q", cstring(options.sql)));
  const results: PgResult[] = [];
  let current: PgResult = { command: "", rows: [] };
  let error: PgServerError | undefined;
  for (;;) {
    const message = await receive(socket);
    if (message.type === "Z") break; // ReadyForQuery: the query is over
    switch (message.type) {
      case "T": { // RowDescription
        const count = message.int16();
        const columns: string[] = [];
        const numeric: boolean[] = [];
        for (let i = 0; i < count; i++) {
          columns.push(message.cstring());
          message.skip(4 + 2); // table OID, column number
          numeric.push(NUMERIC_TYPES.has(message.int32()));
          message.skip(2 + 4 + 2); // type size, type modifier, format code
        }
        current.columns = columns;
        current.numeric = numeric;
        break;
      }
      case "D": { // DataRow
        const count = message.int16();
        const row: (string | null)[] = [];
        for (let i = 0; i < count; i++) {
          const length = message.int32();
          row.push(
            length === -1 ? null : decoder.decode(message.bytes(length)),
          );
        }
        current.rows.push(row);
        break;
      }
      case "C": // CommandComplete
        current.command = message.cstring();
        results.push(current);
        options.onResult?.(current);
        current = { command: "", rows: [] };
        break;
      case "G": // CopyInResponse: the server waits for rows we do not have
        await socket.sendFrame(
          frontend("f", cstring("this example sends no COPY data")),
        ); // CopyFail: the server answers with an ErrorResponse
        break;
      case "I": // EmptyQueryResponse: the SQL held no statement
        break;
      case "E":
        error = new PgServerError(message.fields());
        break;
      case "N":
        onNotice(new PgServerError(message.fields()).message);
        break;
        // "S" ParameterStatus may come at any time; nothing else is expected.
    }
  }
  await socket.sendFrame(frontend("X")); // Terminate; `await using` closes
  if (error) throw error;
  return results;
}

/** Reads Authentication requests until AuthenticationOk. */
async function logIn(
  socket: StreamSocket,
  user: string,
  password: string | undefined,
): Promise<void> {
  for (;;) {
    const message = await receive(socket);
    if (message.type === "E") throw new PgServerError(message.fields());
    if (message.type !== "R") {
      throw new PgClientError(
        `Expected an Authentication message, got type "${message.type}"`,
      );
    }
    const method = message.int32();
    if (method === 0) return; // AuthenticationOk ("trust" ends here)
    if (method === 3) { // AuthenticationCleartextPassword
      if (password === undefined) {
        throw new PgClientError(
          `The server asks for a password for user "${user}": pass --password or set PGPASSWORD (with --allow-env=PGPASSWORD)`,
        );
      }
      await socket.sendFrame(frontend("p", cstring(password)));
      continue;
    }
    let name = REFUSED_METHODS[method] ?? `method ${method}`;
    if (method === 10) { // AuthenticationSASL: a list of mechanisms
      const mechanisms = [];
      for (let m = message.cstring(); m !== ""; m = message.cstring()) {
        mechanisms.push(m);
      }
      name = `SASL (${mechanisms.join(", ")})`;
    }
    throw new PgClientError(
      `The server asks for ${name} authentication, which this example does not speak: it speaks "trust" and "password" (cleartext) only. Use psql or a PostgreSQL driver, or a pg_hba.conf line with "trust" or "password" for this user`,
    );
  }
}

/** Authentication methods by their code, for the refusal message. */
const REFUSED_METHODS: Record<number, string> = {
  2: "Kerberos V5",
  5: "MD5 password",
  7: "GSSAPI",
  9: "SSPI",
  10: "SASL",
};

/** Type OIDs printed right-aligned: int2, int4, int8, oid, float4, float8, numeric. */
const NUMERIC_TYPES = new Set([21, 23, 20, 26, 700, 701, 1700]);

/** The next backend message; the end of the stream is an error here. */
async function receive(socket: StreamSocket): Promise<Backend> {
  const frame = await socket.recvFrame();
  if (frame === null) {
    throw new SocketError("EOF", "The server closed the connection");
  }
  return new Backend(frame);
}

/** A backend message, read field by field from after its length. */
class Backend {
  readonly type: string;
  readonly #frame: Uint8Array;
  readonly #view: DataView;
  #at = 5; // after the type byte and the length

  constructor(frame: Uint8Array) {
    this.#frame = frame;
    this.#view = new DataView(frame.buffer, frame.byteOffset, frame.length);
    this.type = String.fromCharCode(frame[0]);
  }

  #take(n: number): number {
    const at = this.#at;
    if (n < 0 || at + n > this.#frame.length) {
      throw new PgClientError(
        `A "${this.type}" message of ${this.#frame.length} bytes ends before its fields do`,
      );
    }
    this.#at += n;
    return at;
  }

  int16(): number {
    return this.#view.getInt16(this.#take(2));
  }

  int32(): number {
    return this.#view.getInt32(this.#take(4));
  }

  skip(n: number): void {
    this.#take(n);
  }

  bytes(n: number): Uint8Array {
    const at = this.#take(n);
    return this.#frame.subarray(at, at + n);
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.#frame.indexOf(0, this.#at);
    if (end === -1) this.#take(this.#frame.length + 1); // throws
    const text = decoder.decode(this.#frame.subarray(this.#at, end));
    this.#at = end + 1;
    return text;
  }

  /** The fields of an ErrorResponse or NoticeResponse: code byte, cstring, …, 0. */
  fields(): Record<string, string> {
    const fields: Record<string, string> = {};
    while (this.#at < this.#frame.length && this.#frame[this.#at] !== 0) {
      const code = String.fromCharCode(this.#frame[this.#take(1)]);
      fields[code] = this.cstring();
    }
    return fields;
  }
}

/** A frontend message: the type byte, 4 bytes the framing fills with the length, the body. */
function frontend(
  type: string,
  body: Uint8Array = new Uint8Array(),
): Uint8Array {
  const frame = new Uint8Array(5 + body.length);
  frame[0] = type.charCodeAt(0);
  frame.set(body, 5);
  return frame;
}

function cstring(text: string): Uint8Array {
  if (text.includes("\0")) {
    throw new PgClientError(
      "A string sent to PostgreSQL cannot hold a NUL character",
    );
  }
  return encoder.encode(`${text}\0`);
}

function int32(n: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, n);
  return bytes;
}

function parameters(values: Record<string, string>): Uint8Array[] {
  return Object.entries(values).flatMap(([name, value]) => [
    cstring(name),
    cstring(value),
  ]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The columns a string takes on a terminal: 2 for East Asian wide
 * characters (CJK, Hangul, full-width forms, most emoji), 0 for combining
 * marks, 1 otherwise. Enough to line up a table of mixed text.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const c = char.codePointAt(0)!;
    if (c >= 0x300 && c <= 0x36f) continue;
    const wide = (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

/**
 * A result as psql prints it: a table with a row count, NULL shown as
 * `NULL`, numbers right-aligned; or the command tag alone.
 */
export function formatResult(result: PgResult): string {
  const { columns, numeric = [] } = result;
  if (columns === undefined) return result.command;
  const cells = result.rows.map((row) =>
    row.map((value) =>
      value === null
        ? "NULL"
        : value.replace(/[\n\r\t]/g, (c) => JSON.stringify(c).slice(1, -1))
    )
  );
  const widths = columns.map((name, i) =>
    Math.max(displayWidth(name), ...cells.map((row) => displayWidth(row[i])))
  );
  const pad = (text: string, i: number, right: boolean) => {
    const fill = " ".repeat(widths[i] - displayWidth(text));
    return right ? fill + text : text + fill;
  };
  const line = (row: string[], right: (i: number) => boolean) =>
    row.map((text, i) => ` ${pad(text, i, right(i))} `).join("|").trimEnd();
  const count = result.rows.length;
  return [
    line(columns, () => false),
    widths.map((width) => "-".repeat(width + 2)).join("+"),
    ...cells.map((row) => line(row, (i) => numeric[i] ?? false)),
    `(${count} ${count === 1 ? "row" : "rows"})`,
  ].join("\n");
}

const USAGE =
  `Usage: deno run --allow-net=127.0.0.1:5432 --allow-env=PGPASSWORD examples/postgres.ts [options] SQL

Connects to a PostgreSQL server, runs SQL (one or more statements) and prints
each result as a table. Authentication: trust or cleartext password only.

Options:
  --host HOST          the server's address (default 127.0.0.1)
  --port PORT          the server's port (default 5432)
  --user USER          the user to log in as (required)
  --database DATABASE  the database (default: the user's name)
  --password PASSWORD  for "password" authentication (default: $PGPASSWORD)
  --help               show this help

The --allow-net permission must name the same HOST:PORT.`;

if (import.meta.main) {
  const args = parseCli(USAGE, {
    string: { user: "", database: "", password: "" },
    minPort: 1,
    maxArgs: 1,
    defaultPort: 5432,
  });
  if (args.user === "") usageError(USAGE, "--user is required");
  if (args._.length === 0) usageError(USAGE, "give the SQL to run");
  // Read PGPASSWORD only when allowed: no prompt, no crash without the flag.
  const env = Deno.permissions.querySync({
    name: "env",
    variable: "PGPASSWORD",
  });
  const password = args.password !== ""
    ? args.password
    : env.state === "granted"
    ? Deno.env.get("PGPASSWORD") || undefined
    : undefined;
  let first = true;
  try {
    await pgQuery({
      hostname: args.host,
      port: args.port,
      user: args.user,
      database: args.database || undefined,
      password,
      sql: args._[0],
      onResult: (result) => {
        if (!first) console.log("");
        first = false;
        console.log(formatResult(result));
      },
    });
  } catch (error) {
    fail(error, {
      expected: [SocketError, FrameError, PgServerError, PgClientError],
      hints: {
        ECONNREFUSED:
          " (is PostgreSQL listening on TCP there? see listen_addresses and port in postgresql.conf)",
      },
    });
  }
}
