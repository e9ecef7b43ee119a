// The tool's standard streams: writing all of a buffer to stdout, the lines
// of stdin, and status lines on stderr (stdout carries data).

const encoder = new TextEncoder();

/** Writes every byte to stdout. */
export async function writeOut(data: Uint8Array | string): Promise<void> {
  let bytes = typeof data === "string" ? encoder.encode(data) : data;
  while (bytes.length > 0) {
    bytes = bytes.subarray(await Deno.stdout.write(bytes));
  }
}

/** Prints `wire: LINE` on stderr. */
export function status(line: string): void {
  Deno.stderr.writeSync(encoder.encode(`wire: ${line}\n`));
}

/** The lines of a byte stream, without "\n" or "\r\n". */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (pending + text).split("\n");
    pending = parts.pop()!;
    for (const part of parts) yield part.replace(/\r$/, "");
  }
  if (pending !== "") yield pending;
}
