import { expect } from 'chai';
import { parseExpr } from '../../../handlers/workloads/script/expr';
import { parseScript, ScriptError, type SqlCommand } from '../../../handlers/workloads/script/parse';

const FILE = 'workloads/shop/x.sql';
const parse = (text: string) => parseScript(text, FILE);
const sql = (text: string): SqlCommand[] => parse(text).commands.filter((c): c is SqlCommand => c.kind === 'sql');

/** The one line a broken script gives. */
function problem(text: string): string {
  try {
    parse(text);
  } catch (e) {
    expect(e).to.be.instanceOf(ScriptError);
    const message = (e as Error).message;
    expect(message, 'one line').not.to.include('\n');
    return message;
  }
  throw new Error('expected the script to be refused');
}

describe('script parsing (pgbench\'s script language)', () => {
  it('splits SQL at semicolons outside quotes, comments and parentheses, as pgbench does', () => {
    const cmds = sql("-- lead comment\nSELECT 'a;b', \"c;d\" -- x;y\n  FROM t WHERE f(1;2) = $$;$$;\n/* ; */ SELECT 2;\nSELECT 3");
    expect(cmds.map((c) => c.line)).to.deep.equal([2, 4, 5]);
    expect(cmds[0]!.text).to.match(/^SELECT 'a;b', "c;d" -- x;y\n {2}FROM t WHERE f\(1;2\) = \$\$;\$\$;$/);
    expect(cmds[2]!.text).to.equal('SELECT 3');
  });

  it('turns each :name into a bind parameter and leaves :: casts alone', () => {
    const [c] = sql('UPDATE t SET v = :v::int + :v WHERE id = :id;');
    expect(c!.text).to.equal('UPDATE t SET v = $1::int + $2 WHERE id = $3;');
    expect(c!.params).to.deep.equal(['v', 'v', 'id']);
  });

  it('ends a statement at a backslash command and merges \\gset into it', () => {
    const s = parse('SELECT 1 AS one \\gset p_\nSELECT 2 AS two;\n\\aset');
    expect(s.commands.map((c) => c.kind)).to.deep.equal(['sql', 'sql']);
    expect((s.commands[0] as SqlCommand).store).to.deep.equal({ mode: 'gset', prefix: 'p_' });
    expect((s.commands[1] as SqlCommand).store).to.deep.equal({ mode: 'aset', prefix: '' });
    expect(s.stores).to.equal(true);
  });

  it('compiles \\if / \\elif / \\else / \\endif into jumps', () => {
    const s = parse('\\if :a\nSELECT 1;\n\\elif :b\nSELECT 2;\n\\else\nSELECT 3;\n\\endif\nSELECT 4;');
    const kinds = s.commands.map((c) => c.kind);
    expect(kinds).to.deep.equal(['if', 'sql', 'elif', 'sql', 'else', 'sql', 'endif', 'sql']);
    expect(s.commands[0]).to.include({ next: 2 });
    expect(s.commands[2]).to.include({ next: 4, end: 6 });
    expect(s.commands[4]).to.include({ end: 6 });
  });

  it('compiles an \\if without \\else: a false condition jumps to its \\endif', () => {
    const s = parse('\\if :a\nSELECT 1;\n\\endif\n\\if :b\n\\elif :c\nSELECT 2;\n\\endif');
    expect(s.commands[0]).to.include({ kind: 'if', next: 2 });
    expect(s.commands[3]).to.include({ kind: 'if', next: 4 });
    expect(s.commands[4]).to.include({ kind: 'elif', next: 6, end: 6 });
  });

  it('lists the variables a script reads and sets, for `node trigger workloads` and the -D check', () => {
    const s = parse('\\set a :b + abs(:c)\n\\sleep :d ms\n\\sleep 5 ms\nSELECT :e;');
    expect([...s.reads].sort()).to.deep.equal(['b', 'c', 'd', 'e']);
    expect([...s.sets]).to.deep.equal(['a']);
    expect(s).to.include({ stores: false, declared: false });
  });

  it('counts :default_seed as read by hash() and permute() without a seed', () => {
    expect([...parse('\\set h hash(:k)').reads].sort()).to.deep.equal(['default_seed', 'k']);
    expect([...parse('\\set p permute(:i, 10)').reads].sort()).to.deep.equal(['default_seed', 'i']);
    expect([...parse('\\set p permute(:i, 10, 7) + hash_fnv1a(:k, 3)').reads].sort()).to.deep.equal(['i', 'k']);
  });

  it('joins a backslash command continued with \\ at the end of the line (LF or CRLF)', () => {
    for (const eol of ['\n', '\r\n']) {
      const s = parse(`\\set x 1 +\\${eol}2${eol}SELECT :x;${eol}`);
      expect(s.commands[0]).to.deep.equal({ kind: 'set', line: 1, variable: 'x', expr: parseExpr('1 + 2') });
      expect(s.commands[1]).to.include({ kind: 'sql', line: 3, text: 'SELECT $1;' });
    }
  });

  it('quotes a \\set expression without its trailing blanks in a syntax error, with the column in it', () => {
    expect(problem('\\set x 1 +  \r\n')).to.equal(`${FILE}:1: \\set: unexpected end of expression (column 4 of "1 +")`);
  });

  it('reads \\sleep with a sign, as pgbench does', () => {
    expect(parse('\\sleep +2 ms').commands[0]).to.include({ kind: 'sleep', unitUs: 1_000 }).and.to.have.deep.property('amount', { value: 2 });
  });

  it('reads a "-- target:" header written with other spacing, case or a CRLF line end', () => {
    for (const header of ['--target:writer', '-- target : writer', '  --  TARGET:  Writer  \r']) {
      expect(parse(`${header}\nSELECT 1;`), header).to.include({ target: 'writer', declared: true });
    }
  });

  it('takes "-- target:" after a statement on a later line for an ordinary comment', () => {
    expect(parse('SELECT 1;\nCOMMIT;-- target: writer')).to.include({ target: 'reader', declared: false });
  });

  it('reads \\sleep with pgbench\'s units, and a variable', () => {
    const s = parse('\\sleep 10ms\n\\sleep 2\n\\sleep :t us');
    expect(s.commands).to.deep.equal([
      { kind: 'sleep', line: 1, amount: { value: 10 }, unitUs: 1_000 },
      { kind: 'sleep', line: 2, amount: { value: 2 }, unitUs: 1_000_000 },
      { kind: 'sleep', line: 3, amount: { variable: 't' }, unitUs: 1 },
    ]);
  });

  it('sends a read-only script to the reader and any other to the writer', () => {
    expect(parse('\\set id random(1, 10)\nBEGIN;\nSELECT * FROM t WHERE id = :id;\nEND;').target).to.equal('reader');
    expect(parse('SELECT * FROM t FOR UPDATE;').target).to.equal('writer');
    expect(parse('WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d;').target).to.equal('writer');
    expect(parse("SELECT nextval('s');").target).to.equal('writer');
    expect(parse("SELECT 'insert into t';").target).to.equal('reader');
  });

  it('follows a "-- target:" header on the first line', () => {
    const s = parse('-- target: writer\nSELECT 1;');
    expect(s).to.include({ target: 'writer', declared: true });
  });

  const refused: Array<[string, string, RegExp]> = [
    ['\\shell', 'SELECT 1;\n\\shell ls', /^workloads\/shop\/x\.sql:2: \\shell is not supported/],
    ['\\setshell', '\\setshell x echo 1', /^workloads\/shop\/x\.sql:1: \\setshell is not supported/],
    ['a pipeline', '\\startpipeline\nSELECT 1;\n\\endpipeline', /:1: \\startpipeline is not supported/],
    ['a syntax error in \\set', 'SELECT 1;\n\n\\set x random(1,', /^workloads\/shop\/x\.sql:3: \\set: unexpected end of expression/],
    ['an unknown command', '\\frobnicate', /:1: \\frobnicate: invalid command/],
    ['\\gset with no SQL before it', '\\set x 1\n\\gset', /:2: \\gset must follow an SQL command/],
    ['an \\if without \\endif', '\\if 1\nSELECT 1;', /:1: \\if without matching \\endif/],
    ['\\elif after \\else', '\\if 1\n\\else\n\\elif 2\n\\endif', /:3: \\elif after \\else/],
    ['\\endif without \\if', '\\endif', /:1: \\endif without matching \\if/],
    ['a writing script marked reader', '-- target: reader\nSELECT 1;\nUPDATE t SET x = 1;', /:3: the script says "-- target: reader" but this statement writes \(UPDATE\)/],
    ['a header not on the first line', 'SELECT 1;\n-- target: writer', /:2: "-- target:" must be the first line/],
    ['a target that is neither', '-- target: replica\nSELECT 1;', /:1: "-- target: replica" must be reader or writer/],
    ['a variable inside quotes', "SELECT ':id';", /:1: ":id" is inside a quoted string/],
    ['a positional parameter', 'SELECT $1;', /:1: positional parameters/],
    ['a compound statement', 'SELECT 1 \\; SELECT 2;', /:1: compound statements/],
    ['psql quoting', "SELECT :'name';", /:1: psql's :'name' quoting/],
    ['an unterminated string', "SELECT 1;\nSELECT 'abc", /:2: unterminated quoted string/],
    ['a bad \\sleep unit', '\\sleep 10 minutes', /:1: \\sleep: unrecognized time unit "minutes"/],
    ['an empty script', '-- nothing\n', /:1: the script has no commands/],
    ['\\syncpipeline', '\\syncpipeline', /:1: \\syncpipeline is not supported: node-postgres has no pipeline mode/],
    ['\\endpipeline', '\\endpipeline', /:1: \\endpipeline is not supported: node-postgres has no pipeline mode/],
    ['a target with more words', '-- target: writer please\nSELECT 1;', /:1: "-- target: writer please" must be reader or writer/],
    ['\\set with no argument', '\\set', /:1: \\set: missing argument \(\\set name expression\)/],
    ['\\set with no expression', '\\set x', /:1: \\set: missing expression/],
    ['\\set of a name starting with a digit', '\\set 1x 1', /:1: \\set: invalid variable name "1x"/],
    ['\\set of a name with a dash', '\\set x-y 1', /:1: \\set: invalid variable name "x-y"/],
    ['\\gset with two prefixes', 'SELECT 1 \\gset a b', /:1: \\gset: too many arguments/],
    ['\\else with an argument', '\\if 1\n\\else x\n\\endif', /:2: \\else: unexpected argument/],
    ['\\else without \\if', 'SELECT 1;\n\\else', /:2: \\else without matching \\if/],
    ['\\elif without \\if', '\\elif 1', /:1: \\elif without matching \\if/],
    ['\\endif with an argument', '\\if 1\n\\endif x', /:2: \\endif: unexpected argument/],
    ['a backslash and no command', 'SELECT 1;\n\\ set x 1', /:2: a backslash must be followed by a command/],
    ['\\sleep with no argument', '\\sleep', /:1: \\sleep: missing argument/],
    ['\\sleep with three arguments', '\\sleep 1 ms x', /:1: \\sleep: too many arguments/],
    ['\\sleep of a word', '\\sleep x10', /:1: \\sleep: invalid sleep time "x10", must be an integer/],
    ['\\sleep with two units', '\\sleep 10ms ms', /:1: \\sleep: invalid sleep time "10ms", must be an integer/],
    ['a backslash inside a command', '\\set x 2 \\?\nSELECT 1;', /:1: \\set: unexpected character "\\" \(column 3 of "2 \\\?"\)/],
    ['a backslash before a lone carriage return', '\\set x 1 +\\\r 2', /:1: \\set: unexpected character "\\"/],
    ['two lines joined inside a number', '\\set x 1\\\n2', /:1: \\set: syntax error at "2"/],
    ['\\sleep of a bad variable name', '\\sleep :1x', /:1: \\sleep: invalid variable name "1x"/],
  ];
  for (const [what, text, expected] of refused) {
    it(`refuses ${what} with one file:line line`, () => {
      expect(problem(text)).to.match(expected);
    });
  }
});
