/**
 * Reads `buildspec.yml` into the pipeline's synth step, so that the file really drives the build:
 * its install and build commands, runtime versions, variables and artifact directory become the
 * CodeBuild project's. What a CDK Pipelines synth step cannot express is rejected at synth with a
 * one-line error, rather than silently dropped.
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

/** The parts of a buildspec that the synth step uses. */
export interface SynthBuildSpec {
  /** `phases.install.commands`. */
  readonly installCommands: readonly string[];
  /** `phases.pre_build.commands`, then `phases.build.commands`. */
  readonly commands: readonly string[];
  /** `phases.install.runtime-versions`, e.g. `{ nodejs: 22 }`. */
  readonly runtimeVersions: Readonly<Record<string, string | number>>;
  /** `env.variables`. */
  readonly env: Readonly<Record<string, string>>;
  /** `artifacts.base-directory`: the cloud assembly, `cdk.out`. */
  readonly outputDirectory: string;
}

/** A buildspec the synth step cannot honour; the message names the file and the key. */
export class BuildSpecError extends Error {
  override readonly name = 'BuildSpecError';
}

const PHASES = ['install', 'pre_build', 'build'] as const;
const TOP_LEVEL = ['version', 'env', 'phases', 'artifacts'];

/** Reads and parses a buildspec file. */
export function readBuildSpec(file: string): SynthBuildSpec {
  return parseBuildSpec(readFileSync(file, 'utf8'), file);
}

/** Parses buildspec text; `file` only names the source in error messages. */
export function parseBuildSpec(text: string, file = 'buildspec.yml'): SynthBuildSpec {
  const fail = (message: string): never => {
    throw new BuildSpecError(`${file}: ${message}`);
  };
  let doc: unknown;
  try {
    doc = load(text);
  } catch (err) {
    return fail(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc)) return fail('must be a YAML mapping');
  const extra = Object.keys(doc).filter((key) => !TOP_LEVEL.includes(key));
  if (extra.length > 0) fail(`${extra.join(', ')} cannot be expressed in the pipeline's synth step; use ${TOP_LEVEL.join(', ')} only`);
  if (String(doc.version) !== '0.2') fail(`version must be 0.2, got ${JSON.stringify(doc.version)}`);

  const phases = doc.phases;
  if (!isRecord(phases)) return fail('phases must be a mapping');
  const otherPhases = Object.keys(phases).filter((phase) => !(PHASES as readonly string[]).includes(phase));
  if (otherPhases.length > 0) fail(`phases ${otherPhases.join(', ')} cannot be expressed in the pipeline's synth step; use ${PHASES.join(', ')}`);

  const commandsOf = (phase: (typeof PHASES)[number]): string[] => {
    const body = phases[phase];
    if (body === undefined || body === null) return [];
    if (!isRecord(body)) return fail(`phases.${phase} must be a mapping`);
    const allowed = phase === 'install' ? ['commands', 'runtime-versions'] : ['commands'];
    const unsupported = Object.keys(body).filter((key) => !allowed.includes(key));
    if (unsupported.length > 0) fail(`phases.${phase}.${unsupported[0]} cannot be expressed in the pipeline's synth step`);
    const commands = body.commands ?? [];
    if (!Array.isArray(commands) || commands.some((c) => typeof c !== 'string' || c.trim() === '')) {
      fail(`phases.${phase}.commands must be a list of commands`);
    }
    return commands as string[];
  };

  const install = phases.install;
  const runtimeVersions = isRecord(install) && install['runtime-versions'] !== undefined ? install['runtime-versions'] : {};
  if (!isRecord(runtimeVersions) || Object.values(runtimeVersions).some((v) => typeof v !== 'string' && typeof v !== 'number')) {
    fail('phases.install.runtime-versions must map runtimes to versions');
  }

  const commands = [...commandsOf('pre_build'), ...commandsOf('build')];
  if (!commands.some((command) => /\bcdk\s+synth\b/.test(command))) {
    fail('phases.build.commands never run cdk synth: the pipeline needs the cloud assembly it produces');
  }

  return {
    installCommands: commandsOf('install'),
    commands,
    runtimeVersions: runtimeVersions as Record<string, string | number>,
    env: readVariables(doc.env, fail),
    outputDirectory: readOutputDirectory(doc.artifacts, fail),
  };
}

function readVariables(env: unknown, fail: (message: string) => never): Record<string, string> {
  if (env === undefined || env === null) return {};
  if (!isRecord(env)) return fail('env must be a mapping');
  const unsupported = Object.keys(env).filter((key) => key !== 'variables');
  if (unsupported.length > 0) fail(`env.${unsupported[0]} cannot be expressed in the pipeline's synth step; use env.variables`);
  const variables = env.variables ?? {};
  if (!isRecord(variables)) return fail('env.variables must be a mapping');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') fail(`env.variables.${name} must be a scalar`);
    out[name] = String(value);
  }
  return out;
}

function readOutputDirectory(artifacts: unknown, fail: (message: string) => never): string {
  if (!isRecord(artifacts)) return fail('artifacts.base-directory must name the cloud assembly directory (cdk.out)');
  const dir = artifacts['base-directory'];
  if (typeof dir !== 'string' || dir.trim() === '') return fail('artifacts.base-directory must name the cloud assembly directory (cdk.out)');
  return dir;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
