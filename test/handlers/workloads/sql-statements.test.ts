/**
 * How a script's SQL is cut into statements and what is sent: PostgreSQL's quoting, comments and
 * operators are left as written (pgbench 15 ran every statement below as written), only `:name`
 * outside quotes becomes a bind parameter.
 */
import { expect } from 'chai';
import { parseScript, ScriptError, type SqlCommand } from '../../../handlers/workloads/script/parse';
import { MAX_PARAMS } from '../../../handlers/workloads/script/scan';

const FILE = 'workloads/shop/x.sql';
const parse = (text: string) => parseScript(text, FILE);
const sql = (text: string): SqlCommand[] => parse(text).commands.filter((c): c is SqlCommand => c.kind === 'sql');
/** Each statement as sent: its line, text and the variables behind its parameters. */
const sent = (text: string) => sql(text).map((c) => ({ line: c.line, text: c.text, params: c.params }));

function problem(text: string): string {
  try {
    parse(text);
  } catch (e) {
    expect(e).to.be.instanceOf(ScriptError);
    return (e as Error).message;
  }
  throw new Error('expected the script to be refused');
}

describe('script SQL statements (what is sent, as pgbench sends it)', () => {
  it('leaves the colons of array slices and of \\: as written', () => {
    expect(sent('SELECT a[1:2], a[1\\:n] FROM t;')).to.deep.equal([{ line: 1, text: 'SELECT a[1:2], a[1:n] FROM t;', params: [] }]);
  });

  it('leaves a $ inside an identifier, division and parenthesised numbers as written', () => {
    const text = 'SELECT 1 AS a$1, 2 AS b$$2, (12), 6/3;';
    expect(sent(text)).to.deep.equal([{ line: 1, text, params: [] }]);
  });

  it('reads backslashes as escapes only in E\'...\' strings', () => {
    const text = "SELECT name'\\', 'C:\\', E'it\\'s', e'it\\'s', e'\\\\', '', 'it''s', E'a''\\'';";
    expect(sent(`${text}\nSELECT :v;`)).to.deep.equal([{ line: 1, text, params: [] }, { line: 2, text: 'SELECT $1;', params: ['v'] }]);
  });

  it('keeps ; and :name inside nested comments and dollar quotes', () => {
    const text = '/* a * b /* c */ ; :x */ SELECT $body$ ; :y $body$, $$:z$$, 2 * 3 /* c * d / e */;';
    expect(sent(text)).to.deep.equal([{ line: 1, text, params: [] }]);
  });

  it('reads doubled quotes inside quoted identifiers', () => {
    expect(sent('SELECT 1 AS """", :v AS "a""b";')).to.deep.equal([{ line: 1, text: 'SELECT 1 AS """", $1 AS "a""b";', params: ['v'] }]);
  });

  it('leaves a $ that starts no dollar quote, and a colon at the very end, to the server', () => {
    expect(sent('SELECT $x, $$;$$;\nSELECT 1 :')).to.deep.equal([
      { line: 1, text: 'SELECT $x, $$;$$;', params: [] },
      { line: 2, text: 'SELECT 1 :', params: [] },
    ]);
  });

  it('ends a statement at the ; after a stray ), as psql\'s lexer does', () => {
    expect(sent('SELECT 1);\nSELECT 2;').map((c) => c.text)).to.deep.equal(['SELECT 1);', 'SELECT 2;']);
  });

  it('ends the script at a last comment without a newline', () => {
    expect(sent('SELECT 1; -- done')).to.deep.equal([{ line: 1, text: 'SELECT 1;', params: [] }]);
  });

  it('sends no empty statement for ;; or a lone ;', () => {
    expect(sent('SELECT 1;;\n;\nSELECT 2;').map((c) => c.text)).to.deep.equal(['SELECT 1;', 'SELECT 2;']);
  });

  it('numbers lines through strings, identifiers, comments and dollar quotes that span lines', () => {
    const s = sent('SELECT \'a\nb\', "x\ny";\n/* c\n*/ SELECT $$\n$$;\nSELECT 4;');
    expect(s.map((c) => c.line)).to.deep.equal([1, 4, 7]);
  });

  it('names variables with non-ASCII characters (U+0080 and up), as pgbench does', () => {
    expect(sent('SELECT :café, :x\u0080;')[0]!.params).to.deep.equal(['café', 'x\u0080']);
  });

  it(`takes ${MAX_PARAMS} variables in a statement and refuses one more, as pgbench does`, () => {
    const vars = (n: number) => Array.from({ length: n }, (_, i) => `:v${i}`).join(', ');
    expect(sent(`SELECT ${vars(MAX_PARAMS)};`)[0]!.params).to.have.length(MAX_PARAMS);
    expect(problem(`SELECT ${vars(MAX_PARAMS + 1)};`)).to.equal(`${FILE}:1: statement has too many variables (maximum is ${MAX_PARAMS})`);
  });

  // A comment or quoted text glued to a word separates it from the next, as in PostgreSQL.
  const writers: Array<[string, string]> = [
    ["SELECT name'x'INTO t;", 'INTO'],
    ['SELECT 1 AS"a"INTO t;', 'INTO'],
    ['SELECT x/**/INTO t;', 'INTO'],
    ["SELECT 1-nextval('s');", 'NEXTVAL'],
  ];
  for (const [text, word] of writers) {
    it(`sends ${text} to the writer (${word})`, () => {
      expect(sql(text)[0]!.writes).to.equal(word);
    });
  }

  const refused: Array<[string, string, string]> = [
    ['an unterminated comment', 'SELECT 1;\n/* a /* b */', 'x.sql:2: unterminated /* comment'],
    ['an unterminated quoted identifier', 'SELECT "a', 'x.sql:1: unterminated quoted identifier'],
    ['an unterminated dollar quote', 'SELECT $fn$ a', 'x.sql:1: unterminated dollar-quoted string $fn$'],
    ['psql\'s :"name" quoting', 'SELECT :"col";', 'x.sql:1: psql\'s :"name" quoting is not pgbench syntax: write :name (variables are bind parameters)'],
  ];
  for (const [what, text, expected] of refused) {
    it(`refuses ${what}`, () => {
      expect(problem(text)).to.equal(`workloads/shop/${expected}`);
    });
  }

  it('names the whole variable found inside a quoted string', () => {
    expect(problem("SELECT ':name';")).to.match(/^workloads\/shop\/x\.sql:1: ":name" is inside a quoted string/);
  });
});
