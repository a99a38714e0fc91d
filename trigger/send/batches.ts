/** SQS SendMessageBatch: at most 10 entries per call. */
export const SQS_MAX_ENTRIES = 10;

/**
 * The most bytes of message bodies per call. SQS accepts 1 MiB per message and per batch since
 * 2025 (256 KiB before); we keep to 256 KiB, which every SQS endpoint and emulator accepts and
 * which our bodies (at most LIMITS.maxBodyBytes = 8 KiB each) never come near.
 */
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

/**
 * Split bodies into SendMessageBatch-sized groups, in order: at most `maxEntries` each and at most
 * `maxBytes` of UTF-8 bodies each. A single body over `maxBytes` is a bug in the caller.
 */
export function splitIntoBatches(
  bodies: readonly string[],
  maxEntries: number = SQS_MAX_ENTRIES,
  maxBytes: number = SQS_MAX_BATCH_BYTES,
): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body, 'utf8');
    if (size > maxBytes) throw new RangeError(`message body of ${size} bytes is over the ${maxBytes}-byte batch limit`);
    if (current.length === maxEntries || bytes + size > maxBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}
