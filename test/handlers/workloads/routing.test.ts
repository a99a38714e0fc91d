/**
 * Which endpoint a script runs on when it has no "-- target:" header: the reader only when every
 * statement is read-only, and a "-- target: reader" script that writes is refused, naming the
 * word that makes it a write. The test is deliberately conservative (handlers/README.md,
 * "Routing"): a writing word anywhere outside quotes and comments sends a statement to the writer.
 */
import { expect } from 'chai';
import { parseScript, ScriptError } from '../../../handlers/workloads/script/parse';

const targetOf = (sql: string): string => parseScript(sql, 'workloads/t/x.sql').target;

/** The word a "-- target: reader" script is refused for. */
function refusedFor(sql: string): string | undefined {
  try {
    parseScript(`-- target: reader\n${sql}`, 'workloads/t/x.sql');
  } catch (e) {
    if (e instanceof ScriptError) return /this statement writes \((.+?)\)/.exec(e.message)?.[1];
    throw e;
  }
  return undefined;
}

describe('script routing (reader or writer)', () => {
  const readOnly = [
    'SELECT abalance FROM pgbench_accounts WHERE aid = 1;', 'WITH x AS (SELECT 1) SELECT * FROM x;', 'VALUES (1), (2);',
    'TABLE pgbench_branches;', 'SHOW work_mem;', 'EXPLAIN ANALYZE SELECT 1;', 'BEGIN;', 'BEGIN READ ONLY;',
    'START TRANSACTION ISOLATION LEVEL REPEATABLE READ;', 'COMMIT;', 'END;', 'ROLLBACK;', 'ABORT;',
    "SET work_mem = '64MB';", 'SET TRANSACTION READ ONLY;', 'RESET work_mem;', 'DECLARE c CURSOR FOR SELECT 1;',
    'FETCH 10 FROM c;', 'MOVE 5 IN c;', 'CLOSE c;', 'SAVEPOINT s;', 'RELEASE s;', 'DISCARD ALL;',
    "SELECT 'insert into t' AS quoted; -- update", '(1);',
  ];
  for (const sql of readOnly) {
    it(`sends ${sql} to the reader`, () => {
      expect(targetOf(sql)).to.equal('reader');
    });
  }

  const writes: Array<[string, string]> = [
    ['INSERT INTO t VALUES (1);', 'INSERT'],
    ['ANALYZE pgbench_accounts;', 'ANALYZE'],
    ['CHECKPOINT;', 'CHECKPOINT'],
    ['WITH n AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM n;', 'INSERT'],
    ['SELECT * FROM t FOR UPDATE;', 'UPDATE'],
    ['WITH d AS (DELETE FROM t RETURNING id) SELECT id FROM d;', 'DELETE'],
    ['EXPLAIN ANALYZE MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE;', 'MERGE'],
    ['SELECT * INTO archive FROM t;', 'INTO'],
    ['EXPLAIN ANALYZE CREATE TABLE t2 AS SELECT 1;', 'CREATE'],
    ['SELECT * FROM t FOR SHARE;', 'FOR SHARE'],
    ['SELECT * FROM t FOR KEY SHARE;', 'FOR SHARE'],
    ["SELECT nextval('s');", 'NEXTVAL'],
    ["SELECT setval('s', 1);", 'SETVAL'],
    // A standby refuses read-write mode and serializable isolation, however they are asked for.
    ['BEGIN READ WRITE;', 'READ WRITE'],
    ['START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE;', 'READ WRITE'],
    ['SET TRANSACTION READ WRITE;', 'READ WRITE'],
    ['BEGIN ISOLATION LEVEL REPEATABLE READ, READ\n    WRITE;', 'READ WRITE'],
    ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE;', 'READ WRITE'],
    ['BEGIN ISOLATION LEVEL SERIALIZABLE;', 'SERIALIZABLE'],
  ];
  for (const [sql, word] of writes) {
    it(`sends ${sql} to the writer, and refuses it in a reader script for ${word}`, () => {
      expect(targetOf(sql)).to.equal('writer');
      expect(refusedFor(sql)).to.equal(word);
    });
  }

  // Words that can only start a statement still count anywhere (as a column or alias name here).
  const anywhere = ['truncate', 'copy', 'drop', 'alter', 'grant', 'revoke', 'lock', 'call', 'do', 'vacuum', 'cluster',
    'reindex', 'refresh', 'comment', 'notify', 'listen', 'import', 'security'];
  for (const word of anywhere) {
    it(`sends a SELECT that names ${word.toUpperCase()} to the writer`, () => {
      expect(refusedFor(`SELECT 1 AS ${word};`)).to.equal(word.toUpperCase());
    });
  }
});
