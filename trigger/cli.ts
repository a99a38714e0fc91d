import { Argument, Command, CommanderError, Option } from 'commander';
import { systemClock } from '../handlers/clock';
import { METRIC_NAMESPACE_DEFAULT, STACK_OUTPUT } from '../handlers/contract';
import { projectCatalog } from '../handlers/workloads/project';
import type { CliIo } from './commands/io';
import { CliError, EXIT, oneLine, UsageError } from './errors';
import { EVENT_SOURCE_DEFAULTS } from '../handlers/event-source';
import { RUN_DEFAULTS } from './options/run-options';
import { DEFAULT_MIX } from './options/mix';
import { FAULT_KINDS } from './drills/faults';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The workloads of this checkout and their scripts, for --help. */
function workloadsHelp(): string {
  const catalog = projectCatalog();
  return catalog.names.map((w) => `${w} (${catalog.operationsOf(w).map((o) => o.op).join(', ')})`).join('; ');
}

const RUN_EXAMPLES = `
Examples:
  $ node trigger --local                                  # ${RUN_DEFAULTS.durationMs.local / 1000}s at ${RUN_DEFAULTS.rate.local}/s on an embedded writer + hot standby
  $ node trigger --local --reader --rate 500 --duration 30s           # read-only load on the standby
  $ node trigger --local --writer-url postgres://u:pw@db1/app --reader-url postgres://u:pw@db2/app
  $ node trigger --reader --writer --rate 200 --duration 5m          # deployed stack (found via CloudFormation)
  $ node trigger --rate 1000 --ramp 2m --duration 10m --threshold "p99<50ms" --threshold "errors<1%"
  $ node trigger --reader my-replica.abc.eu-west-1.rds.amazonaws.com --rate 50   # a host on the worker's allowlist
  $ node trigger --mode statements --count 20 --rate 100 --queue-url https://sqs.eu-west-1.amazonaws.com/1234/q
  $ node trigger --workload tpcb --mix tpcb=50,select-only=50 --workers 8 --rate 400 --max-connections 200 --json
  $ node trigger --local --workload shop --mix lookup=80,buy=20 -D region=eu   # your scripts, in workloads/shop/

Workloads are folders of pgbench scripts under workloads/ (node trigger workloads lists them):
--mix weighs their scripts by name; read=/write= mean the workload's reader/writer script.

Traffic: --reader/--writer choose which endpoints get load (neither: both). Reads go to the
reader, writes to the writer. A bare flag means the deployed (or local) endpoint; a value names a
host, which the worker accepts only if it is on its allowlist.

Modes: slice (default) plans W workers x rate r = --rate: each worker gets consecutive slices of
at most 5m and runs them on an open-loop schedule, so the database sees exactly --rate whatever SQS
does. Workers hand over to their next slice (sent --start-lead ahead) one at a time; the first
slices are sent early enough for the event source to scale up (5 invocations, +300 a minute). A
plan that does not fit the maximum concurrency or max_connections is refused; --dry-run shows
what it needs. statements sends messages of --count statements at rate/count messages per second
(the 2019 sample's model; SQS batching shows through).

Thresholds (repeatable; a breach exits 1): p50, p90, p99, max, avg in ms or s ("p99<50ms",
"select:p90<=20ms", "reader:max<1s"); errors as a share or a count ("errors<1%", "errors<10");
rate: the achieved rate's distance from the plan ("rate<2%"); dlq: messages of this run that
reached the dead-letter queue ("dlq<1"; fails when that count is unknown). A summary that is
incomplete (not every message's outcome reached CloudWatch in time) fails every threshold.

Exit codes: 0 ok; 1 a threshold failed, the summary is incomplete with thresholds given, or
nothing was measured; 2 a flag mistake, nothing deployed to run against, or a plan that cannot fit;
130 interrupted (Ctrl-C prints the partial summary).

Failover drill: --failover-at 30s fails the database over 30 s into the load, while it runs:
locally the embedded standby is promoted, the old writer stopped and both endpoints moved to the
new writer (as Aurora moves its cluster endpoints); in AWS, RDS FailoverDBCluster on the stack's
cluster. The summary then gives the client-visible downtime for writes and for reads (first
failure to the first clean second after it), errors by class, and how long until the rate was
back to plan. Other faults: node trigger drill --help.
  $ node trigger --local --failover-at 10s --duration 30s --rate 200

The staleness probe (on when the mix's scripts read and write; --no-staleness-probe turns it
off): 5 times a second a marker row is written on the writer and read back on the reader until it
is there; the summary gives that delay (p50/p99/max, ms): replica staleness as a client sees it.
Its load: 5 inserts and 1 delete a second on the writer, a few primary-key reads a second on the
reader; it holds one invocation of its own, which the plan's fleet checks count.

Database beside the load: the summary and the HTML report add each server's connections, commits,
CPU and replica lag (locally, sampled every second from the servers), or each Aurora instance's
capacity, CPU, connections, commits, commit latency and replica lag and the worker's concurrency
and throttles (in AWS, from CloudWatch, per minute).

Every run is saved as .runs/<run id>.json (summary and per-second timeline): node trigger report
--run ID prints it again, --html FILE writes it as one HTML file with charts (also on a run), and
report --compare A B compares two runs. handlers/README.md explains each line of the summary.
  $ node trigger --local --rate 200 --duration 20s --failover-at 8s --html run.html`;

/** Build the command tree. Actions set the exit code through `done`; nothing here exits. */
export function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command('node trigger');
  program
    .description('Rate-controlled load tests for Aurora PostgreSQL: plan the load, send it through SQS (or the local engine), report the latency. Commands: run (default), report, drill, stop, init, workloads.')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      outputError: (s, write) => write(`${oneLine(s)}\n`),
    })
    .showSuggestionAfterError(true)
    .version(require('../package.json').version as string, '-V, --version');

  const run = program.command('run', { isDefault: true })
    .description('run a load test (the default command)')
    .allowExcessArguments(true)
    .option('--reader [host]', 'send read traffic to the reader endpoint (or to HOST)')
    .option('--writer [host]', 'send write traffic to the writer endpoint (or to HOST)')
    .option('--workload <name>', `workload: ${workloadsHelp()}`, RUN_DEFAULTS.workload)
    .option('--mix <weights>', 'relative weights, by read/write or script name', DEFAULT_MIX)
    .option('-D, --define <name=value>', 'set a script variable, as pgbench -D (repeatable)', collect)
    .option('--rate <n>', `statements per second (default: ${RUN_DEFAULTS.rate.aws}, ${RUN_DEFAULTS.rate.local} with --local)`)
    .option('--duration <time>', `how long the load lasts, e.g. 90s, 5m, 1h (default: ${RUN_DEFAULTS.durationMs.aws / 1000}s, ${RUN_DEFAULTS.durationMs.local / 1000}s with --local)`)
    .option('--ramp <time>', 'climb linearly from 0 to --rate over this time (part of --duration)')
    .addOption(new Option('--mode <mode>', 'slice: linear load at the database; statements: the seed\'s message model').choices(['slice', 'statements']).default(RUN_DEFAULTS.mode))
    .option('--count <n>', `statements per message (--mode statements, default ${RUN_DEFAULTS.count})`)
    .option('--workers <n>', 'concurrent workers (--mode slice; default ceil(rate / --worker-rate))')
    .option('--worker-rate <n>', 'most statements per second one worker is planned for (--mode slice, default 100)')
    .option('--concurrency <n>', 'most SendMessageBatch calls in flight', String(RUN_DEFAULTS.concurrency))
    .option('--max-connections <n>', "the database's max_connections, to refuse plans that cannot fit (read from the server with --local)")
    .option('--max-concurrency <n>', `the worker's maximum concurrency (the stack's ${STACK_OUTPUT.workerMaxConcurrency}; default: read from the stack, ${EVENT_SOURCE_DEFAULTS.maxConcurrency} with --local)`)
    .option('--no-scale-up', 'assume the event source is scaled up already (locally: no scale-up model); by default it starts at 5 invocations and adds 300 a minute, as in AWS')
    .option('--dry-run', 'print the plan and what it needs (peak concurrency, time to full rate, connections) and exit; sends nothing (offline in AWS with --queue-url, --max-concurrency and --max-connections)')
    .option('--start-lead <time>', 'send each slice this long before it starts (default 5s in AWS, 2s with --local)')
    .option('--late-limit <time>', 'skip and count statements that cannot start this late (pgbench -L; default 1s)')
    .option('--scale <n>', 'tpcb scale factor for the local init')
    .option('--threshold <expr>', 'pass/fail criterion, repeatable (see below)', collect)
    .option('--json', 'print the summary as JSON')
    .option('--run-id <id>', 'name the run (default: generated and printed)')
    .option('--no-save', 'do not save the summary under .runs/')
    .option('--local', 'run on this machine: embedded PostgreSQL writer + hot standby, in-process queue')
    .option('--writer-url <url>', 'with --local: use this PostgreSQL primary (postgres://user:pass@host:port/db)')
    .option('--reader-url <url>', 'with --local: use this hot standby of it')
    .option('--demo', 'what npm start runs: --local with a short explanation')
    .option('--failover-at <time>', 'failover drill: fail the database over this long into the load (see below)')
    .option('--staleness-probe', 'measure replica staleness as clients see it (default: on when the mix\'s scripts read and write)')
    .option('--no-staleness-probe', 'do not run the staleness probe')
    .option('--html <file>', 'also write the report as one self-contained HTML file (charts; opens offline)')
    .option('--queue-url <url>', `SQS queue to send to (default: the stack output ${STACK_OUTPUT.queueUrl}; not with a dlq threshold)`)
    .option('--region <region>', 'AWS region (default: from the queue URL or the AWS configuration)')
    .option('--stack <name>', `CloudFormation stack to read outputs from (default: ${RUN_DEFAULTS.stack})`)
    .option('--namespace <ns>', `CloudWatch namespace of the worker's metrics (default: the stack output, else ${METRIC_NAMESPACE_DEFAULT})`)
    .addHelpText('after', RUN_EXAMPLES)
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      if (cmd.args.length) {
        throw new UsageError(`unknown command "${cmd.args[0]}": use run, report, drill, stop, init or workloads (node trigger --help)`);
      }
      // Commander fills in defaults; the resolver needs to know what the user actually typed.
      const given = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
      const raw = Object.fromEntries(Object.entries(opts).filter(([k]) => given(k) || k === 'save' || k === 'scaleUp'));
      const { runCommand } = require('./commands/run') as typeof import('./commands/run');
      done(await runCommand(raw, io));
    });

  program.command('report')
    .description('print a saved run again, exactly as it printed; or read an AWS run back from CloudWatch')
    .option('--run <id>', 'the run id (default: the latest run saved in .runs/)')
    .option('--local', 'only a local run saved in .runs/')
    .option('--refresh', 'AWS runs: read the metrics from CloudWatch again (e.g. after an incomplete summary) and save them')
    .option('--threshold <expr>', 'check these thresholds instead of the run\'s own, repeatable', collect)
    .option('--json', 'print the summary as JSON')
    .option('--since <time>', 'for AWS runs not started from here: the window to read (default 3h)')
    .option('--region <region>', 'AWS region')
    .option('--stack <name>', `stack to read the metric namespace from (default: ${RUN_DEFAULTS.stack})`)
    .option('--namespace <ns>', `CloudWatch namespace (default: the stack output, else ${METRIC_NAMESPACE_DEFAULT})`)
    .option('--html <file>', 'also write the report as one self-contained HTML file (charts; opens offline)')
    .option('--compare <runs...>', 'compare two saved runs, A (the baseline) then B: per-operation rate, p50, p99, max, errors')
    .option('--max-regression <limits>', 'with --compare: exit 1 when B is worse than A by more than this, e.g. p99=10% (repeatable)', collect)
    .addHelpText('after', `
Examples:
  $ node trigger report                              # the latest run saved here
  $ node trigger report --run run-20250101-120000-ab12 --json
  $ node trigger report --run run-20250101-120000-ab12 --refresh     # an AWS run, read again
  $ node trigger report --run nightly-42 --since 12h --threshold "p99<50ms"   # an AWS run started elsewhere
  $ node trigger report --run run-20250101-120000-ab12 --html run.html         # charts, one file, opens offline
  $ node trigger report --compare nightly-41 nightly-42 --max-regression p99=10% --max-regression errors=0.5%
  $ node trigger report --compare nightly-41 nightly-42 --json --html compare.html

--max-regression (with --compare; exit 1 when B is worse than A by more than allowed): p50, p90,
p99, max as a share or a time (p99=10%, max=50ms; every operation both runs measured); errors as
percentage points of the error rate (errors=1%) or a count (errors=10); rate as the share the
achieved rate may drop (rate=5%).

1-second metrics are kept by CloudWatch for 3 hours: a run read later has a timeline in 1-minute
steps (5-minute after 15 days, 1-hour after 63 days). A saved run keeps its own.`)
    .action(async (opts: Record<string, unknown>) => {
      const { reportCommand } = require('./commands/report') as typeof import('./commands/report');
      done(await reportCommand(opts, io));
    });

  program.command('stop')
    .description('purge the load-test queue so nothing queued starts (asks for --yes)')
    .option('--yes', 'really purge')
    .option('--local', '(local runs stop with Ctrl-C)')
    .option('--queue-url <url>', `queue to purge (default: the stack output ${STACK_OUTPUT.queueUrl})`)
    .option('--region <region>', 'AWS region')
    .option('--stack <name>', `stack to read the queue from (default: ${RUN_DEFAULTS.stack})`)
    .addHelpText('after', `
Slices already running finish their current slice (at most 5 minutes). SQS allows one purge a minute.

Examples:
  $ node trigger stop --yes
  $ node trigger stop --yes --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/LoadTest-Queue`)
    .action(async (opts: Record<string, unknown>) => {
      const { stopCommand } = require('./commands/stop') as typeof import('./commands/stop');
      done(await stopCommand(opts, io));
    });

  program.command('drill')
    .description('rehearse a fault on the local engine under load, and check that nothing was lost')
    .addArgument(new Argument('<fault>', 'what goes wrong').choices(FAULT_KINDS))
    .option('--local', 'required: drills stop and start the embedded servers')
    .option('--at <time>', 'server faults: stop the server(s) this long into the load (default 1s)')
    .option('--down <time>', 'server faults: keep them down this long (default 1.5s; writer-silent 8s)')
    .option('--rate <n>', 'statements per second (default 100; storm 200)')
    .option('--duration <time>', 'how long the load lasts (default 5s; storm 2.5s, the length of each slice; writer-silent 6s)')
    .option('--workload <name>', `${projectCatalog().names.join(' or ')}`, RUN_DEFAULTS.workload)
    .option('--scale <n>', 'tpcb scale factor for the init')
    .option('-D, --define <name=value>', 'set a script variable, as pgbench -D (repeatable)', collect)
    .option('--threshold <expr>', 'pass/fail criterion, repeatable (as for run)', collect)
    .option('--json', 'print the summary as JSON')
    .option('--run-id <id>', 'name the run (default: generated and printed)')
    .option('--no-save', 'do not save the run under .runs/')
    .addHelpText('after', `
Faults:
  reader-down       the hot standby stops (fast shutdown) and starts again: reads fail (class 08)
                    and their messages are redelivered
  writer-down       the writer stops and starts again: writes fail (57, then 08)
  both-down         both stop; the writer starts first
  redelivery-storm  4 slices longer than the queue's 1 s visibility timeout: each is handed out
                    again while it runs, and every extra run must be counted as a duplicate
  writer-silent     the writer stops answering without closing its sockets (default: 1s into a
                    6s slice run, for 8s): the worker's query timeout must find it (class 08),
                    and every invocation must end and publish before its deadline

The server faults send statements messages (a failure fails its message, which comes back). The
summary adds what the fault cost (downtime of reads and writes, errors by class, time back to
plan) and the books: every message sent is done or dead-lettered, redeliveries are counted, and
the table gained exactly the successful writes (plus at most those cut off by a broken
connection). A drill whose books do not balance exits 1.

Examples:
  $ node trigger drill reader-down --local
  $ node trigger drill writer-down --local --workload tpcb --at 2s --down 3s --duration 10s
  $ node trigger drill redelivery-storm --local`)
    .action(async (fault: string, opts: Record<string, unknown>) => {
      const { drillCommand } = require('./commands/drill') as typeof import('./commands/drill');
      done(await drillCommand(fault, opts, io));
    });

  program.command('init')
    .description("create and load a workload's schema through the worker (idempotent)")
    .option('--workload <name>', `${projectCatalog().names.join(' or ')}`, RUN_DEFAULTS.workload)
    .option('--scale <n>', 'tpcb scale factor (100,000 accounts each; default 1)')
    .option('--reset', 'tpcb: drop and reload its tables (script workloads: refused, their init.sql is idempotent)')
    .option('--local', 'on the local engine (embedded, or --writer-url/--reader-url)')
    .option('--writer-url <url>', 'with --local: this PostgreSQL primary')
    .option('--reader-url <url>', 'with --local: its hot standby')
    .option('--queue-url <url>', `queue to send the init message to (default: the stack output ${STACK_OUTPUT.queueUrl})`)
    .option('--region <region>', 'AWS region')
    .option('--stack <name>', `stack (default: ${RUN_DEFAULTS.stack})`)
    .option('--namespace <ns>', 'CloudWatch namespace to read the outcome from')
    .option('--wait <time>', 'how long to wait for the worker to report the outcome (default 10m)')
    .option('--no-wait', 'send the init message and return')
    .addHelpText('after', `
Examples:
  $ node trigger init --workload tpcb --scale 10       # through the deployed worker
  $ node trigger init --local --workload tpcb --scale 4 --reset   # reload tpcb at another scale`)
    .action(async (opts: Record<string, unknown>) => {
      const { initCommand } = require('./commands/init') as typeof import('./commands/init');
      done(await initCommand(opts, io));
    });

  program.command('workloads')
    .description('list the workloads under workloads/, their scripts, targets and variables, and any problem (file:line)')
    .option('--json', 'print the listing as JSON')
    .action((opts: { json?: boolean }) => {
      const { workloadsCommand } = require('./commands/workloads') as typeof import('./commands/workloads');
      done(workloadsCommand(opts, io));
    });

  // `node trigger --help` documents everything: the default command's options and examples too.
  program.addHelpText('after', () => {
    const lines = run.helpInformation().split('\n');
    return `\nrun (the default command): node trigger [run] [options]\n${lines.slice(lines.indexOf('Options:') + 1).join('\n').trimEnd()}\n${RUN_EXAMPLES}`;
  });
  return program;
}

/**
 * Parse and run. Resolves to the exit code; never exits the process and never throws for a
 * user's mistake (those print one line). Only a bug escapes with its stack.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => { code = c; });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CliError) {
      io.err(`error: ${oneLine(e.message)}`);
      return e.exitCode;
    }
    throw e;
  }
}

/** The process entry: real streams, Ctrl-C handling, exit code. */
export function start(argv: readonly string[] = process.argv.slice(2)): void {
  // The SDK warns, in nine lines, that its 2027 releases will need Node 22; we support Node 20.19+
  // (package.json engines) and pin the SDK, so the warning is noise on every AWS command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // `node trigger --help | head`: the reader went away, which is not our failure. Stop quietly,
  // as Unix tools do, instead of crashing on the unhandled EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(EXIT.ok);
      throw e;
    });
  }
  const controller = new AbortController();
  const io: CliIo = {
    out: (s) => { process.stdout.write(`${s}\n`); },
    err: (s) => { process.stderr.write(`${s}\n`); },
    progressStream: process.stderr,
    signal: controller.signal,
    cwd: process.cwd(),
    clock: systemClock,
  };
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts === 1) {
      io.err('\ninterrupted: stopping the sends and summarising what ran (Ctrl-C again to quit at once)');
      controller.abort();
    } else {
      process.exit(EXIT.interrupted);
    }
  });
  main(argv, io).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`bug: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(EXIT.failed);
    },
  );
}

if (require.main === module) start();
