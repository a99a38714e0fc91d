import { expect } from 'chai';
import { transformSync } from 'esbuild';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  DIMENSION, DIMENSIONS_OF, ERROR_CLASS_NAMES, errorClassFor, METRIC, METRIC_NAMESPACE_DEFAULT, STACK_OUTPUT,
} from '../../handlers/contract';

const ROOT = join(__dirname, '..', '..');
/** The shipped code: every place a name could be typed by hand. */
const SOURCE_DIRS = ['handlers', 'trigger', 'app', 'pipeline', 'bench'];
const CONTRACT = 'handlers/contract.ts';

/**
 * Strings that spell a contract name for another reason. app/config.ts names CDK context keys,
 * some of which are spelled like stack outputs (the stack echoes them back as outputs); two
 * descriptions start an English sentence with "Messages".
 */
const ALLOWED: Record<string, readonly string[]> = {
  'app/config.ts': [STACK_OUTPUT.writerEndpoint, STACK_OUTPUT.readerEndpoint, STACK_OUTPUT.dbClusterIdentifier, STACK_OUTPUT.workerMaxConcurrency, STACK_OUTPUT.workerPoolMax, STACK_OUTPUT.metricNamespace],
  'app/load/load-stack.ts': [METRIC.messages],
  'app/load/worker-alarms.ts': [METRIC.messages],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'out' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The text of every string literal and template in `js` (types and comments are already gone).
 * Regular expression literals are skipped: a `/` after an operator or an opening bracket starts one.
 */
export function stringsIn(js: string): string[] {
  const out: string[] = [];
  let i = 0;
  let last = '';
  const readQuoted = (quote: string): string => {
    let s = '';
    for (i++; i < js.length && js[i] !== quote; i++) {
      if (js[i] === '\\') i++;
      s += js[i];
    }
    i++;
    return s;
  };
  const readTemplate = (): void => {
    let s = '';
    for (i++; i < js.length && js[i] !== '`'; i++) {
      if (js[i] === '\\') { s += js[++i]; continue; }
      if (js[i] === '$' && js[i + 1] === '{') {
        out.push(s);
        s = '';
        i += 2;
        readCode('}');
        continue;
      }
      s += js[i];
    }
    out.push(s);
  };
  const readCode = (until?: string): void => {
    let depth = 0;
    while (i < js.length) {
      const c = js[i]!;
      if (until && c === until && depth === 0) return;
      if (c === '{') depth++;
      if (c === '}') depth--;
      if (c === '"' || c === "'") { out.push(readQuoted(c)); last = 'x'; continue; }
      if (c === '`') { readTemplate(); i++; last = 'x'; continue; }
      if (c === '/' && js[i + 1] === '/') { while (i < js.length && js[i] !== '\n') i++; continue; }
      if (c === '/' && js[i + 1] === '*') { i = js.indexOf('*/', i + 2) + 2; continue; }
      if (c === '/' && (last === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(last))) {
        let inClass = false;
        for (i++; i < js.length && (js[i] !== '/' || inClass); i++) {
          if (js[i] === '\\') i++;
          else if (js[i] === '[') inClass = true;
          else if (js[i] === ']') inClass = false;
        }
        i++;
        last = 'x';
        continue;
      }
      if (!/\s/.test(c)) last = c;
      i++;
    }
  };
  readCode();
  return out;
}

describe('contract: the names the worker, the report, the dashboard and discovery share', () => {
  const names = [
    ...Object.values(METRIC), ...Object.values(DIMENSION), ...Object.values(STACK_OUTPUT), METRIC_NAMESPACE_DEFAULT,
  ];

  it('are typed nowhere in the shipped code but the contract', () => {
    const found: string[] = [];
    for (const file of SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)))) {
      const rel = relative(ROOT, file);
      if (rel === CONTRACT) continue;
      const js = transformSync(readFileSync(file, 'utf8'), { loader: 'ts', format: 'esm' }).code;
      for (const text of stringsIn(js)) {
        for (const name of names) {
          if (new RegExp(`\\b${name}\\b`).test(text) && !(ALLOWED[rel] ?? []).includes(name)) found.push(`${rel}: "${name}" in ${JSON.stringify(text)}`);
        }
      }
    }
    expect(found, found.join('\n')).to.deep.equal([]);
  });

  it('are found by the scan where they are typed by hand (the scan itself works)', () => {
    const js = transformSync("const x = 'Latency'; const y = `${a} on ${PROP('Dim.Target')}`; const r = /Errors'/; // 'Messages'\n", { loader: 'ts' }).code;
    const texts = stringsIn(js);
    expect(texts).to.include('Latency');
    expect(texts.some((t) => t.includes('Dim.Target'))).to.equal(true);
    expect(texts.some((t) => t.includes('Messages') || t.includes('Errors'))).to.equal(false);
  });

  it('keeps the trigger off ListMetrics: the report builds every query from the contract', () => {
    const hits = sourceFiles(join(ROOT, 'trigger')).filter((f) => readFileSync(f, 'utf8').includes('ListMetrics'));
    expect(hits.map((f) => relative(ROOT, f))).to.deep.equal([]);
  });

  // The wire format: deployed dashboards and stored metrics depend on these spellings.
  it('keeps the metric, dimension and output names stable on the wire', () => {
    expect(Object.values(METRIC)).to.deep.equal(['Latency', 'ScheduleLag', 'Errors', 'Skipped', 'Answered', 'QueueDwell', 'Messages', 'SenderClockAhead', 'Staleness', 'StalenessMarkers']);
    expect(Object.values(DIMENSION)).to.deep.equal(['RunId', 'Operation', 'Target', 'ErrorClass', 'Server', 'Outcome']);
    expect(STACK_OUTPUT.queueUrl).to.equal('QueueUrl');
    expect(METRIC_NAMESPACE_DEFAULT).to.equal('AuroraLoadTest');
  });

  it('gives every metric its dimensions, the run first', () => {
    for (const metric of Object.values(METRIC)) expect(DIMENSIONS_OF[metric][0]).to.equal(DIMENSION.runId);
  });

  it('bounds the error classes: a SQLSTATE class outside the set is published as "other"', () => {
    expect(errorClassFor('08')).to.equal('08');
    expect(errorClassFor('client')).to.equal('client');
    expect(errorClassFor('P0')).to.equal('other');
    expect(errorClassFor('HV')).to.equal('other');
    expect(ERROR_CLASS_NAMES).to.include.members(['08', '25', '40', '53', '57', 'XX', 'client', 'other']);
  });
});
