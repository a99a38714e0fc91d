/**
 * Splits a pgbench script into SQL commands and backslash meta-commands the way pgbench does
 * (through psql's lexer): a SQL command ends at a `;` outside quotes, comments and parentheses,
 * or where a backslash command starts (`SELECT ... \gset`), or at the end of the file; a
 * backslash command runs to the end of its line (`\` + newline continues it). `\;` and `\:` put a
 * literal `;` or `:` into the SQL.
 *
 * While scanning, every `:name` in SQL code becomes a `$n` bind parameter, as pgbench does in its
 * extended and prepared query modes; `::` casts are left alone. Quoted text and comments are
 * tracked so the router can read the statement's keywords without being fooled by them.
 */

/** A problem at a line of the script; the caller adds the file name. */
export class ScanError extends Error {
  override readonly name = 'ScanError';
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

export interface SqlItem {
  readonly kind: 'sql';
  /** Line of the statement's first character (1-based). */
  readonly line: number;
  /** The statement as sent: `:name` replaced by `$1`, `$2`, ... */
  readonly text: string;
  /** The variable behind each `$n`, in order (a variable used twice is two parameters, as in pgbench). */
  readonly params: readonly string[];
  /** The statement's code with string literals, quoted identifiers and comments blanked out. */
  readonly code: string;
  /** True when the statement contains `\;` (a compound statement). */
  readonly compound: boolean;
}

export interface MetaItem {
  readonly kind: 'meta';
  readonly line: number;
  /** Command name, lower case (`set`, `gset`, ...). */
  readonly name: string;
  /** Everything after the name up to the end of the (logical) line, continuations joined, trailing
   * whitespace (a CRLF file's \r included) dropped. */
  readonly rest: string;
}

export type ScriptItem = SqlItem | MetaItem;

/** pgbench's variable-name characters: ASCII letters, digits, underscore and non-ASCII. */
const isNameStart = (c: string | undefined): boolean => c !== undefined && (/[A-Za-z_]/.test(c) || c.charCodeAt(0) >= 0x80);
const isNameChar = (c: string | undefined): boolean => c !== undefined && (isNameStart(c) || /[0-9]/.test(c));
/** Characters that continue an SQL identifier or keyword ($ included, as PostgreSQL allows). */
const isIdentChar = (c: string | undefined): boolean => c !== undefined && (isNameChar(c) || c === '$');

/** PostgreSQL caps the number of bind parameters a statement may have; pgbench caps it at 255. */
export const MAX_PARAMS = 255;

export function scanScript(source: string): ScriptItem[] {
  const items: ScriptItem[] = [];
  const s = source;
  let i = 0;
  let line = 1;

  let text = '';
  let code = '';
  let params: string[] = [];
  let startLine = 0;
  let depth = 0;
  let compound = false;

  const emit = (t: string, c: string = t): void => {
    if (text === '' && startLine === 0) startLine = line;
    text += t;
    code += c;
  };
  const flush = (): void => {
    const body = code.replace(/;/g, ' ').trim();
    if (body !== '') items.push({ kind: 'sql', line: startLine, text: text.trimEnd(), params, code, compound });
    text = '';
    code = '';
    params = [];
    startLine = 0;
    depth = 0;
    compound = false;
  };
  const advance = (t: string): void => {
    for (const ch of t) if (ch === '\n') line++;
  };

  while (i < s.length) {
    const c = s[i]!;
    const next = s[i + 1];
    const empty = text === '';

    // Whitespace and "--" comments before a statement are not part of it.
    if (/\s/.test(c)) {
      if (!empty) emit(c, c);
      if (c === '\n') line++;
      i++;
      continue;
    }
    if (c === '-' && next === '-') {
      const end = s.indexOf('\n', i);
      const stop = end < 0 ? s.length : end;
      if (!empty) emit(s.slice(i, stop), ' ');
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      const startedAt = line;
      let j = i + 2;
      let nest = 1;
      while (j < s.length && nest > 0) {
        if (s[j] === '/' && s[j + 1] === '*') { nest++; j += 2; } else if (s[j] === '*' && s[j + 1] === '/') { nest--; j += 2; } else j++;
      }
      if (nest > 0) throw new ScanError('unterminated /* comment', startedAt);
      const t = s.slice(i, j);
      emit(t, ' ');
      advance(t);
      i = j;
      continue;
    }
    if (c === "'") {
      const prev = s[i - 1];
      const escape = (prev === 'E' || prev === 'e') && !isIdentChar(s[i - 2]);
      const startedAt = line;
      let j = i + 1;
      for (;;) {
        if (j >= s.length) throw new ScanError('unterminated quoted string', startedAt);
        const ch = s[j]!;
        if (escape && ch === '\\') { j += 2; continue; }
        if (ch === "'") {
          if (s[j + 1] === "'") { j += 2; continue; }
          j++;
          break;
        }
        j++;
      }
      const t = s.slice(i, j);
      const variable = /(?<!:):([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)/.exec(t);
      if (variable) {
        throw new ScanError(`":${variable[1]}" is inside a quoted string, where it is not a variable: variables are bind parameters here (as pgbench -M extended), so write :${variable[1]} outside quotes (and cast it if needed, e.g. :${variable[1]}::text)`, startedAt);
      }
      emit(t, `'${' '.repeat(Math.max(0, t.length - 2))}'`);
      advance(t);
      i = j;
      continue;
    }
    if (c === '"') {
      const startedAt = line;
      let j = i + 1;
      for (;;) {
        if (j >= s.length) throw new ScanError('unterminated quoted identifier', startedAt);
        if (s[j] === '"') {
          if (s[j + 1] === '"') { j += 2; continue; }
          j++;
          break;
        }
        j++;
      }
      const t = s.slice(i, j);
      emit(t, ` ${'x'.repeat(Math.max(1, t.length - 2))} `);
      advance(t);
      i = j;
      continue;
    }
    if (c === '$' && !isIdentChar(s[i - 1])) {
      if (/[0-9]/.test(next ?? '')) {
        throw new ScanError('positional parameters ($1, $2, ...) are assigned by the worker: name a variable instead (:name)', line);
      }
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(s.slice(i));
      if (tag) {
        const close = s.indexOf(tag[0], i + tag[0].length);
        if (close < 0) throw new ScanError(`unterminated dollar-quoted string ${tag[0]}`, line);
        const t = s.slice(i, close + tag[0].length);
        emit(t, `'${' '.repeat(Math.max(0, t.length - 2))}'`);
        advance(t);
        i = close + tag[0].length;
        continue;
      }
    }
    if (c === ':') {
      if (next === ':') {
        let j = i;
        while (s[j] === ':') j++;
        emit(s.slice(i, j));
        i = j;
        continue;
      }
      if (next === "'" || next === '"') {
        throw new ScanError(`psql's :${next}name${next} quoting is not pgbench syntax: write :name (variables are bind parameters)`, line);
      }
      if (isNameStart(next)) {
        let j = i + 1;
        while (isNameChar(s[j])) j++;
        params.push(s.slice(i + 1, j));
        if (params.length > MAX_PARAMS) throw new ScanError(`statement has too many variables (maximum is ${MAX_PARAMS})`, line);
        const placeholder = `$${params.length}`;
        emit(placeholder, ' ? ');
        i = j;
        continue;
      }
      emit(c);
      i++;
      continue;
    }
    if (c === '\\') {
      if (next === ';' || next === ':') {
        if (next === ';') compound = true;
        emit(next);
        i += 2;
        continue;
      }
      // A backslash command: what came before it is a statement of its own.
      flush();
      const metaLine = line;
      let j = i + 1;
      let rest = '';
      while (j < s.length && s[j] !== '\n') {
        if (s[j] === '\\' && (s[j + 1] === '\n' || (s[j + 1] === '\r' && s[j + 2] === '\n'))) {
          rest += ' ';
          j += s[j + 1] === '\r' ? 3 : 2;
          line++;
          continue;
        }
        rest += s[j];
        j++;
      }
      const m = /^(\S*)\s*([\s\S]*)$/.exec(rest)!;
      items.push({ kind: 'meta', line: metaLine, name: m[1]!.toLowerCase(), rest: m[2]!.trimEnd() });
      i = j;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')' && depth > 0) depth--;
    if (c === ';' && depth === 0) {
      emit(c);
      flush();
      i++;
      continue;
    }
    emit(c);
    i++;
  }
  flush();
  return items;
}
