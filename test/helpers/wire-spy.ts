import type pg from 'pg';

/** The error a promise rejects with (the test fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** The first byte of every chunk a node-postgres client writes from now on: the protocol messages it starts with. */
export function sentMessageTypes(c: pg.Client): string[] {
  const seen: string[] = [];
  const stream = (c as unknown as { connection: { stream: { write(b: Buffer): boolean } } }).connection.stream;
  const write = stream.write.bind(stream);
  stream.write = (b: Buffer) => {
    seen.push(String.fromCharCode(b[0]!));
    return write(b);
  };
  return seen;
}
