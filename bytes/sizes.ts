// Byte counts and the empty byte array, named once for the whole module.

/** 1024 bytes. */
export const KiB = 1024;
/** 1024 KiB. */
export const MiB: number = 1024 * KiB;
/** A shared zero-length array: never written to, so one serves everyone. */
export const EMPTY: Uint8Array = new Uint8Array(0);
