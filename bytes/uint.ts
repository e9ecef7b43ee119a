// Unsigned integers of 1, 2, 3, 4 or 8 bytes in either byte order: the length
// fields of the length-prefixed codecs. Hand-unrolled: a DataView per call
// costs more than the decode around it.

/** Reads the unsigned integer at `bytes[at]`. */
export type ReadUint = (bytes: Uint8Array, at: number) => number;
/** Writes `value` as an unsigned integer at `bytes[at]`. */
export type WriteUint = (bytes: Uint8Array, at: number, value: number) => void;

const TWO_32 = 4294967296;

const read32be: ReadUint = (b, i) =>
  b[i] * 0x1000000 + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
const read32le: ReadUint = (b, i) =>
  b[i + 3] * 0x1000000 + ((b[i + 2] << 16) | (b[i + 1] << 8) | b[i]);

const READERS: Record<number, [big: ReadUint, little: ReadUint]> = {
  1: [(b, i) => b[i], (b, i) => b[i]],
  2: [(b, i) => (b[i] << 8) | b[i + 1], (b, i) => b[i] | (b[i + 1] << 8)],
  3: [
    (b, i) => (b[i] << 16) | (b[i + 1] << 8) | b[i + 2],
    (b, i) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16),
  ],
  4: [read32be, read32le],
  8: [
    (b, i) => read32be(b, i) * TWO_32 + read32be(b, i + 4),
    (b, i) => read32le(b, i + 4) * TWO_32 + read32le(b, i),
  ],
};

const WRITE_32: [big: WriteUint, little: WriteUint] = [
  (b, i, n) => {
    b[i] = n >>> 24;
    b[i + 1] = n >>> 16;
    b[i + 2] = n >>> 8;
    b[i + 3] = n;
  },
  (b, i, n) => {
    b[i] = n;
    b[i + 1] = n >>> 8;
    b[i + 2] = n >>> 16;
    b[i + 3] = n >>> 24;
  },
];

/** The reader of `width`-byte unsigned integers in that byte order. */
function uintReader(width: number, littleEndian: boolean): ReadUint {
  return READERS[width][littleEndian ? 1 : 0];
}

/** The writer of `width`-byte unsigned integers in that byte order. */
function uintWriter(width: number, littleEndian: boolean): WriteUint {
  if (width === 4) return WRITE_32[littleEndian ? 1 : 0];
  return (bytes, at, value) => {
    let rest = value;
    for (let k = 0; k < width; k++) {
      bytes[littleEndian ? at + k : at + width - 1 - k] = rest % 256;
      rest = Math.floor(rest / 256);
    }
  };
}

/** The largest value `width` bytes hold, capped at 2^53 - 1. */
function uintMax(width: number): number {
  return width >= 7 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * width) - 1;
}

/** A length header: its width, byte order, reader, writer and largest value. */
export interface LengthHeader {
  /** 1, 2, 3, 4 or 8. */
  readonly bytes: number;
  readonly littleEndian: boolean;
  readonly read: ReadUint;
  readonly write: WriteUint;
  /** The largest length it holds, capped at 2^53 - 1. */
  readonly max: number;
}

/**
 * The length header the options describe: `headerBytes` wide (4 by default),
 * big-endian unless `littleEndian`.
 *
 * @throws {RangeError} `headerBytes` is not 1, 2, 3, 4 or 8.
 */
export function lengthHeader(
  options: { headerBytes?: number; littleEndian?: boolean },
): LengthHeader {
  const bytes = options.headerBytes ?? 4;
  if (![1, 2, 3, 4, 8].includes(bytes)) {
    throw new RangeError(
      `Cannot create framing: headerBytes must be 1, 2, 3, 4 or 8, got ${bytes}`,
    );
  }
  const littleEndian = options.littleEndian ?? false;
  return {
    bytes,
    littleEndian,
    read: uintReader(bytes, littleEndian),
    write: uintWriter(bytes, littleEndian),
    max: uintMax(bytes),
  };
}
