/**
 * Which endpoint a statement needs: a hot standby (an Aurora reader) runs only read-only
 * transactions, so anything that may write, lock rows or advance a sequence goes to the writer.
 * The test is deliberately conservative: a statement counts as read-only only when it starts with
 * a read-only command and names no writing keyword anywhere outside quotes and comments. A
 * function that writes behind a SELECT cannot be seen here; the standby refuses it at run time
 * (SQLSTATE 25006), and the error is counted.
 */

/** Commands a standby runs (transaction control and session settings included). */
const READ_ONLY_COMMANDS = new Set([
  'select', 'with', 'values', 'table', 'show', 'explain', 'begin', 'start', 'commit', 'end', 'rollback', 'abort',
  'set', 'reset', 'declare', 'fetch', 'move', 'close', 'savepoint', 'release', 'discard',
]);

/**
 * Words that mean a write, or something else a standby refuses (a row lock, SERIALIZABLE
 * isolation), wherever they appear.
 */
const WRITING_WORDS = new Set([
  'insert', 'update', 'delete', 'merge', 'into', 'truncate', 'copy', 'create', 'drop', 'alter', 'grant', 'revoke',
  'lock', 'call', 'do', 'vacuum', 'cluster', 'reindex', 'refresh', 'comment', 'notify', 'listen', 'nextval', 'setval',
  'share', 'import', 'security', 'serializable',
]);

/** The commands that can set a transaction's access mode. */
const TRANSACTION_MODE_COMMANDS = new Set(['begin', 'start', 'set']);

/**
 * The word that makes `code` (a statement with quoted text and comments blanked out) a write, or
 * undefined when it is read-only.
 */
export function writingWord(code: string): string | undefined {
  const words = code.toLowerCase().match(/[a-z_][a-z0-9_$]*/g) ?? [];
  if (words.length === 0) return undefined;
  const first = words[0]!;
  if (!READ_ONLY_COMMANDS.has(first)) return first.toUpperCase();
  // EXPLAIN ANALYZE of a SELECT reads; ANALYZE on its own is maintenance.
  const hit = words.find((w) => WRITING_WORDS.has(w));
  if (hit) return hit === 'share' ? 'FOR SHARE' : hit.toUpperCase();
  // A standby refuses read-write mode however it is asked for: BEGIN / START TRANSACTION / SET
  // TRANSACTION (or SESSION CHARACTERISTICS AS TRANSACTION) ... READ WRITE.
  if (TRANSACTION_MODE_COMMANDS.has(first) && /\bread\s+write\b/.test(code.toLowerCase())) return 'READ WRITE';
  return undefined;
}
