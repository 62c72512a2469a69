/**
 * The command tree, and nothing else: each command's module is imported only when it runs, so
 * `coattail --help` loads no AWS SDK, no React and no WebSocket code.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { runCommand, type GlobalOptions } from './core/run.js';
import { EXCHANGE_REGISTRY, type Exchange } from './exchanges/registry.js';

const DEFAULT_SYMBOLS = 'BTC-USDT,ETH-USDT,SOL-USDT';

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

export function buildProgram(): Command {
  const program = new Command('coattail')
    .description("Coat Tail Capital's trade pipeline: Binance and Coinbase trades → Kinesis → Spark → alerts and Iceberg.")
    .version('0.1.0')
    .option('-v, --verbose', 'debug logs on stderr')
    .option('-q, --quiet', 'only warnings and errors on stderr')
    // A usage error is one line and exit 2, like every other bad option (main() turns it into the exit).
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(usageLine(text)) })
    .addHelpText('after', examples(['make demo', 'coattail local up', 'coattail simulate --scenario default', 'coattail ingest --local --max-trades 1000', 'coattail ingest --sink stdout --duration 10']));

  const global = (): GlobalOptions => program.opts<GlobalOptions>();
  program.hook('preAction', (_program, command) => readFlagsFromEnv(command));

  program
    .command('ingest')
    .description('Exchanges → normalize → Kinesis (or --sink stdout: NDJSON unified trades on stdout)')
    .addOption(new Option('--exchanges <list>', 'comma-separated exchanges').env('COATTAIL_EXCHANGES').default('binance,coinbase'))
    .addOption(new Option('--symbols <list>', 'comma-separated BASE-QUOTE symbols').env('COATTAIL_SYMBOLS').default(DEFAULT_SYMBOLS))
    .addOption(new Option('--stream <name>', 'Kinesis stream').env('COATTAIL_STREAM').default('coattail-trades'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--kinesis-endpoint <url>', 'Kinesis endpoint (a local emulator)').env('COATTAIL_KINESIS_ENDPOINT'))
    .addOption(new Option('--local', "use the emulators started by 'coattail local up'").env('COATTAIL_LOCAL'))
    .addOption(new Option('--state-dir <dir>', 'where local state lives').env('COATTAIL_STATE_DIR').default('.coattail/local'))
    .addOption(new Option('--sink <sink>', 'where trades go').choices(['kinesis', 'stdout']).env('COATTAIL_SINK').default('kinesis'))
    .addOption(exchangeUrlOption('binance'))
    .addOption(exchangeUrlOption('coinbase'))
    .addOption(new Option('--binance-time-unit <unit>', 'ask Binance for ms or us timestamps').choices(['ms', 'us']).env('COATTAIL_BINANCE_TIME_UNIT').default('ms'))
    .addOption(new Option('--max-trades <n>', 'stop cleanly after N trades (1 to 1000000000000)').env('COATTAIL_MAX_TRADES'))
    .addOption(new Option('--duration <duration>', 'stop cleanly after this long: 90 (seconds), 30s, 15m, 2h, 1d; 1s to 365d').env('COATTAIL_DURATION'))
    .addOption(new Option('--aggregate', 'KPL-aggregate records that share a partition key').env('COATTAIL_AGGREGATE'))
    .addOption(new Option('--linger-ms <ms>', 'longest a record waits for its batch, in ms (0 to 60000)').env('COATTAIL_LINGER_MS').default('100'))
    .addOption(new Option('--buffer-records <n>', 'records buffered before the sockets are paused (1 to 1000000)').env('COATTAIL_BUFFER_RECORDS').default('20000'))
    .addOption(new Option('--stats-interval <duration>', 'periodic stats on stderr, e.g. 10s or 1m (0: off; 0.1s to 1d)').env('COATTAIL_STATS_INTERVAL').default('10'))
    .addOption(new Option('--shutdown-timeout <duration>', 'how long a stop may take to flush, e.g. 20s (1s to 1h)').env('COATTAIL_SHUTDOWN_TIMEOUT').default('20'))
    .addOption(new Option('--undelivered-dir <dir>', 'where trades that could not be delivered are saved (if it cannot be written: the OS temp folder)').env('COATTAIL_UNDELIVERED_DIR').default('.coattail/undelivered'))
    .addOption(new Option('--json', 'final summary as one JSON line on stderr (stdout stays data only)'))
    .addHelpText('after', examples([
      'coattail ingest --local',
      'coattail ingest --sink stdout --symbols BTC-USDT --max-trades 100 > trades.jsonl',
      'COATTAIL_KINESIS_ENDPOINT=http://127.0.0.1:4568 coattail ingest --duration 60',
      'coattail ingest --binance-url ws://127.0.0.1:9443 --coinbase-url ws://127.0.0.1:9443/coinbase --sink stdout',
    ]))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/ingest.js')).ingest(opts, ctx)));

  program
    .command('simulate')
    .description('Local market simulator speaking the Binance and Coinbase WebSocket protocols on one port')
    .addOption(new Option('--port <port>', 'port to listen on').env('COATTAIL_SIM_PORT').default('9443'))
    .addOption(new Option('--host <host>', 'address to listen on').env('COATTAIL_SIM_HOST').default('127.0.0.1'))
    .addOption(new Option('--scenario <name|file>', 'built-in scenario name or a scenario JSON file').env('COATTAIL_SIM_SCENARIO').default('default'))
    .addOption(new Option('--seed <n>', 'random seed (overrides the scenario)').env('COATTAIL_SIM_SEED'))
    .addOption(new Option('--rate <trades-per-second>', 'trade rate (overrides the scenario)').env('COATTAIL_SIM_RATE'))
    .addOption(new Option('--record <file>', 'write every trade the simulator prints as NDJSON'))
    .addOption(new Option('--list', 'list the built-in scenarios and exit'))
    .addOption(new Option('--json', 'print the endpoints as JSON on stdout'))
    .addHelpText('after', examples([
      'coattail simulate',
      'coattail simulate --scenario whales --seed 7',
      'coattail simulate --scenario ./my-scenario.json --port 9500 --record sim-trades.jsonl',
      'coattail ingest --binance-url ws://127.0.0.1:9443 --coinbase-url ws://127.0.0.1:9443/coinbase --sink stdout',
    ]))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/simulate.js')).simulate(opts, ctx)));

  program
    .command('replay')
    .description("Run one job's streaming logic over recorded trades (backtest); outputs as NDJSON files")
    .argument('<job>', 'raw-archiver, volume-anomaly, whale-detector or spread-calculator')
    .addOption(new Option('--input <file>', 'recorded unified trades (NDJSON)').env('COATTAIL_REPLAY_INPUT'))
    .addOption(new Option('--out <dir>', "folder for the output files (created; the job's files replaced)").env('COATTAIL_REPLAY_OUT'))
    .addOption(
      new Option('--set <name=value>', 'override a setting (repeatable): threshold, min_periods, watermark, symbols, trigger')
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([]),
    )
    .addOption(new Option('--json', 'summary as one JSON object on stdout'))
    .addHelpText('after', examples([
      'coattail replay whale-detector --input trades.jsonl --out backtest --set threshold=250000',
      'coattail replay volume-anomaly --input day.jsonl --out va --set threshold=3.0 --json',
    ]))
    .action(async (job: string, opts) => runCommand(global(), async (ctx) => (await import('./commands/replay.js')).replay({ ...opts, job }, ctx)));

  program
    .command('watch')
    .description('Live terminal view of alerts from DynamoDB, newest first (NDJSON when stdout is not a terminal, or --json)')
    .addArgument(new Argument('<what>', 'which alerts').choices(['whales', 'anomalies', 'spreads']))
    .addOption(new Option('--min-usd <n>', 'only alerts of at least this notional (whales) or window quote volume (anomalies); not for spreads (0 to 1000000000000)').env('COATTAIL_WATCH_MIN_USD'))
    .addOption(new Option('--since <duration>', 'show alerts from this long ago on: 90 (seconds), 30s, 15m, 2h, 1d; 1s to 365d').env('COATTAIL_WATCH_SINCE').default('15m'))
    .addOption(new Option('--symbols <list>', 'only these BASE-QUOTE symbols (default: all)').env('COATTAIL_WATCH_SYMBOLS'))
    .addOption(new Option('--json', 'NDJSON on stdout, one alert a line, even on a terminal'))
    .addOption(new Option('--local', "use the store started by 'coattail local up'").env('COATTAIL_LOCAL'))
    .addOption(new Option('--state-dir <dir>', 'where local state lives').env('COATTAIL_STATE_DIR').default('.coattail/local'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--dynamodb-endpoint <url>', 'DynamoDB endpoint (a local store)').env('COATTAIL_DYNAMODB_ENDPOINT'))
    .addOption(new Option('--table <name>', 'alert table').env('COATTAIL_ALERTS_TABLE').default('coattail-alerts'))
    .addOption(new Option('--interval-ms <ms>', 'poll interval while alerts arrive, in ms (50 to 3600000; waits grow to 4x when none do)').env('COATTAIL_WATCH_INTERVAL_MS').default('1000'))
    .addHelpText('after', examples([
      'coattail watch whales --local',
      'coattail watch whales --local --min-usd 250000 --symbols BTC-USDT,ETH-USDT --since 2h',
      'coattail watch anomalies --region eu-west-1',
      'coattail watch spreads --local --json | jq .spread_pct',
      'coattail watch whales --dynamodb-endpoint http://127.0.0.1:8000 --since 30s > whales.jsonl',
    ]))
    .action(async (what: string, opts) => runCommand(global(), async (ctx) => (await import('./commands/watch.js')).watch(what, opts, ctx)));

  const local = program
    .command('local')
    .description('Start, stop and inspect the local emulators (Kinesis, DynamoDB-compatible store)');
  const stateDir = (): Option => new Option('--state-dir <dir>', 'where local state lives').env('COATTAIL_STATE_DIR').default('.coattail/local');
  local
    .command('up')
    .description('Start the emulators in the background, create the stream and the alert tables')
    .addOption(stateDir())
    .addOption(new Option('--kinesis-port <port>', 'Kinesis emulator port').env('COATTAIL_KINESIS_PORT').default('4568'))
    .addOption(new Option('--dynamodb-port <port>', 'DynamoDB-compatible store port').env('COATTAIL_DYNAMODB_PORT').default('8000'))
    .addOption(new Option('--stream <name>', 'Kinesis stream to create').env('COATTAIL_STREAM').default('coattail-trades'))
    .addOption(new Option('--shards <n>', 'shards of the stream').env('COATTAIL_SHARDS').default('2'))
    .addOption(new Option('--json', 'print the endpoints as JSON'))
    .addHelpText('after', examples(['coattail local up', 'coattail local up --json', 'COATTAIL_KINESIS_PORT=4600 coattail local up']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/local/up.js')).localUp(opts, ctx)));
  local
    .command('down')
    .description('Stop the emulators (fine when nothing runs)')
    .addOption(stateDir())
    .addHelpText('after', examples(['coattail local down']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/local/down.js')).localDown(opts, ctx)));
  local
    .command('status')
    .description('Show whether the emulators run, and their endpoints (exit 0 when all is ready, 3 when not)')
    .addOption(stateDir())
    .addOption(new Option('--json', 'machine-readable output'))
    .addHelpText('after', examples(['coattail local status', 'coattail local status --json | jq .kinesis.endpoint']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/local/status.js')).localStatus(opts, ctx)));

  local
    .command('peek')
    .description('Show what the local Kinesis stream holds: trades per exchange and symbol, and the newest few')
    .addOption(stateDir())
    .addOption(new Option('--stream <name>', 'stream to read (default: the one local up created)').env('COATTAIL_STREAM'))
    .addOption(new Option('--last <n>', 'how many of the newest trades to print (0 to 10000)').default('5'))
    .addOption(new Option('--json', 'machine-readable output'))
    .addHelpText('after', examples(['coattail local peek', 'coattail local peek --last 0 --json | jq .trades']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/local/peek.js')).localPeek(opts, ctx)));

  const demo = program
    .command('demo')
    .description('The whole pipeline locally: emulators, the market simulator (or --live), ingest, the four Spark jobs, alerts and Iceberg history, the live whale view')
    .addOption(new Option('--headless', 'no live view: run, then print a summary (also when stdout is not a terminal)').env('COATTAIL_DEMO_HEADLESS'))
    .addOption(new Option('--duration <duration>', 'this long of market, then stop: 90 (seconds), 30s, 15m, 2h, 1d; 1s to 365d (default: until Ctrl-C, or the end of a bounded scenario)').env('COATTAIL_DEMO_DURATION'))
    .addOption(new Option('--json', 'the summary as one JSON object on stdout (implies --headless)'))
    .addOption(new Option('--scenario <name|file>', 'simulator scenario: built-in name or JSON file').env('COATTAIL_DEMO_SCENARIO').default('default'))
    .addOption(new Option('--seed <n>', 'simulator seed (overrides the scenario)').env('COATTAIL_SIM_SEED'))
    .addOption(new Option('--live', 'the real exchanges instead of the simulator (needs the internet)').env('COATTAIL_DEMO_LIVE'))
    .addOption(new Option('--dir <folder>', 'warehouse, checkpoints, raw zone and logs: a new or empty folder, or one the demo made (it deletes in it)').env('COATTAIL_DEMO_DIR').default('.coattail/demo'))
    .addOption(new Option('--fresh', 'clear the warehouse, raw zone and logs first (checkpoints are cleared every run)'))
    .addOption(new Option('--symbols <list>', "BASE-QUOTE symbols (default: the scenario's; with --live BTC-USDT,ETH-USDT,SOL-USDT)").env('COATTAIL_SYMBOLS'))
    .addOption(new Option('--watermark <duration>', "every job's watermark, e.g. 10s (0 to 1d; default 2m)").env('COATTAIL_DEMO_WATERMARK'))
    .addOption(
      new Option('--set <JOB:NAME=VALUE>', "one job's setting (repeatable): threshold, min_periods, watermark, trigger, symbols; whale-detector also history_trigger")
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([]),
    )
    .addOption(new Option('--align <second>', "start the simulator so that its second S falls on a whole minute (lines scripted events up with the jobs' windows)").env('COATTAIL_DEMO_ALIGN'))
    .addOption(new Option('--record <file>', 'write every trade the simulator prints as NDJSON'))
    .addOption(new Option('--spark-apps <n>', '2: the whale detector in a Spark application of its own (default); 1: all four jobs in one').choices(['1', '2']).env('COATTAIL_DEMO_SPARK_APPS').default('2'))
    .addOption(new Option('--start-timeout <duration>', 'longest wait for Spark to start and run its first micro-batches (1s to 1h)').env('COATTAIL_DEMO_START_TIMEOUT').default('240'))
    .addOption(new Option('--drain-timeout <duration>', 'after the ingest stops, longest wait for the jobs to finish what is in flight (1s to 1h)').env('COATTAIL_DEMO_DRAIN_TIMEOUT').default('60'))
    .addHelpText(
      'after',
      examples([
        'make demo',
        'coattail demo --headless --duration 180',
        'coattail demo --headless --duration 180 --json | jq .latency_ms',
        'coattail demo --live',
        'coattail demo --scenario scripted --align 10 --watermark 10s --set volume-anomaly:min_periods=2 --headless --json',
      ]) +
        '\nLatency (latency_ms in the summary) is for whale alerts: exchange trade time to the alert written in the store.\n' +
        'Window alerts (volume anomalies, spreads) wait for their window to close and the watermark to pass it, by design.\n',
    )
    .action(async (opts) =>
      runCommand(global(), async (ctx) => {
        const [{ demo }, { watchWhalesView }] = await Promise.all([import('./commands/demo/demo.js'), import('./demo/ui.js')]);
        return demo(opts, ctx, { ui: watchWhalesView });
      }),
    );
  demo
    .command('schema-evolution')
    .description('Add a column to an Iceberg table of its own: old rows read NULL, new rows carry it, no data file rewritten')
    .addOption(new Option('--json', 'the report as one JSON object on stdout'))
    .addOption(new Option('--warehouse <dir>', 'local Iceberg warehouse').env('COATTAIL_WAREHOUSE'))
    .addHelpText('after', examples(['coattail demo schema-evolution', 'coattail demo schema-evolution --json | jq .files']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/demo/schema-evolution.js')).schemaEvolutionDemo(opts, ctx)));


  // ---- jobs (EMR Serverless) and ddl (Athena) ----
  const awsCommon = (cmd: Command, json = true): Command => {
    cmd
      .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
      .addOption(new Option('--config <file>', 'settings file (default: coattail.config.json here)').env('COATTAIL_CONFIG'))
      .addOption(new Option('--save-config', 'remember the settings given in the config file'));
    return json ? cmd.addOption(new Option('--json', 'machine-readable output on stdout')) : cmd;
  };
  const emrCommon = (cmd: Command, json = true): Command =>
    awsCommon(cmd, json).addOption(new Option('--application-id <id>', 'EMR Serverless application').env('COATTAIL_EMR_APPLICATION_ID'));
  const jobs = program
    .command('jobs')
    .description('Run the Spark jobs on EMR Serverless (or --local), follow and stop their runs')
    .addHelpText('after', examples(['coattail jobs submit whale-detector --wait', 'coattail jobs list --state RUNNING', 'coattail jobs logs 00fabc123 --follow']));
  emrCommon(jobs.command('submit'))
    .description('Bundle jobs-py, upload it (content-addressed), start a job run; streaming jobs run in STREAMING mode')
    .argument('<job>', 'raw-archiver, volume-anomaly, whale-detector, spread-calculator, historical-loader, reprocess-anomalies, schema-evolution-demo')
    .argument('[args...]', "the job's own arguments, after --")
    .addOption(new Option('--execution-role-arn <arn>', 'IAM role the job runs as').env('COATTAIL_EMR_ROLE_ARN'))
    .addOption(new Option('--bucket <name>', 'S3 bucket for bundles, checkpoints, raw zone and logs').env('COATTAIL_BUCKET'))
    .addOption(new Option('--stream <name>', 'Kinesis stream the streaming jobs read').env('COATTAIL_STREAM'))
    .addOption(new Option('--alerts-table <name>', 'DynamoDB alert table').env('COATTAIL_ALERTS_TABLE'))
    .addOption(new Option('--log-group <name>', 'also send the logs to this CloudWatch Logs group').env('COATTAIL_EMR_LOG_GROUP'))
    .addOption(new Option('--set <name=value>', 'job setting passed through (repeatable)').argParser((v: string, prev: string[]) => [...prev, v]).default([]))
    .addOption(new Option('--run-name <nonce>', 'start a new run even when the same command ran before'))
    .addOption(new Option('--venv-archive <file>', 'the packages for spark.archives (coattail jobs pack-env makes it)').env('COATTAIL_EMR_VENV_ARCHIVE'))
    .addOption(new Option('--emr-python <path>', "the image's Python when no --venv-archive").env('COATTAIL_EMR_PYTHON'))
    .addOption(new Option('--retries-per-hour <n>', 'streaming: failed attempts an hour before giving up (1-10)').env('COATTAIL_EMR_RETRIES_PER_HOUR'))
    .addOption(new Option('--timeout-minutes <n>', 'batch: execution timeout').env('COATTAIL_EMR_TIMEOUT_MINUTES'))
    .addOption(new Option('--wait', 'follow the run to its end (exit 0 SUCCESS, 1 FAILED, 3 CANCELLED, 130 Ctrl-C)'))
    .addOption(new Option('--cancel-on-interrupt', 'with --wait: Ctrl-C cancels the run instead of leaving it running'))
    .addOption(new Option('--dry-run', 'print the exact StartJobRun request (with --local: the spark-submit command) and stop'))
    .addOption(new Option('--local', 'run the job with spark-submit on local Spark and the local emulators'))
    .addOption(new Option('--state-dir <dir>', "--local: where 'coattail local up' keeps its state").env('COATTAIL_STATE_DIR'))
    .addOption(new Option('--kinesis-endpoint <url>', '--local: Kinesis emulator').env('COATTAIL_KINESIS_ENDPOINT'))
    .addOption(new Option('--dynamodb-endpoint <url>', '--local: DynamoDB-compatible store').env('COATTAIL_DYNAMODB_ENDPOINT'))
    .addOption(new Option('--warehouse <dir>', '--local: Iceberg warehouse folder').env('COATTAIL_WAREHOUSE'))
    .addOption(new Option('--spark-submit <path>', '--local: spark-submit to use').env('COATTAIL_SPARK_SUBMIT'))
    .addHelpText('after', examples([
      'coattail jobs submit whale-detector --application-id 00fabc123 --execution-role-arn arn:aws:iam::123456789012:role/coattail-emr --bucket my-coattail --region eu-west-1 --save-config',
      'coattail jobs submit volume-anomaly --set threshold=3.0 --wait',
      'coattail jobs submit historical-loader -- --symbol BTC-USDT --start 2024-01-01 --end 2024-01-02',
      'coattail jobs submit whale-detector --dry-run | jq .configurationOverrides',
      'coattail jobs submit whale-detector --local',
    ]))
    .action(async (job: string, args: string[], opts) => runCommand(global(), async (ctx) => (await import('./commands/jobs/submit.js')).jobsSubmit({ ...opts, job, args }, ctx)));
  emrCommon(jobs.command('list'))
    .description('Job runs of the application, newest first')
    .addOption(new Option('--state <states>', 'only runs in these states, comma-separated (RUNNING,FAILED,...)'))
    .addOption(new Option('--job <name>', 'only runs of this job'))
    .addOption(new Option('--limit <n>', 'at most this many runs').default('20'))
    .addHelpText('after', examples(['coattail jobs list', 'coattail jobs list --state RUNNING --job whale-detector', 'coattail jobs list --json | jq .[].state']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/jobs/list.js')).jobsList(opts, ctx)));
  emrCommon(jobs.command('status'))
    .description('One job run: state, details, attempt, times, log location')
    .argument('<run-id>', 'job run id')
    .addHelpText('after', examples(['coattail jobs status 00fabc123def', 'coattail jobs status 00fabc123def --json | jq .state']))
    .action(async (runId: string, opts) => runCommand(global(), async (ctx) => (await import('./commands/jobs/status.js')).jobsStatus({ ...opts, runId }, ctx)));
  emrCommon(jobs.command('logs'), false)
    .description("The driver's stdout and stderr from S3 (--follow while the run runs)")
    .argument('<run-id>', 'job run id')
    .addOption(new Option('--log <which>', 'stdout, stderr or both').default('both'))
    .addOption(new Option('--follow', 'keep printing new lines until the run ends'))
    .addOption(new Option('--tail <n>', 'only the last N lines (of what is there at first)'))
    .addHelpText('after', examples(['coattail jobs logs 00fabc123def --log stderr --tail 100', 'coattail jobs logs 00fabc123def --follow']))
    .action(async (runId: string, opts) => runCommand(global(), async (ctx) => (await import('./commands/jobs/logs.js')).jobsLogs({ ...opts, runId }, ctx)));
  emrCommon(jobs.command('cancel'))
    .description('Cancel a job run and wait until it has ended')
    .argument('<run-id>', 'job run id')
    .addOption(new Option('--no-wait', 'return once the cancellation is requested'))
    .addHelpText('after', examples(['coattail jobs cancel 00fabc123def', 'coattail jobs cancel 00fabc123def --no-wait']))
    .action(async (runId: string, opts) => runCommand(global(), async (ctx) => (await import('./commands/jobs/cancel.js')).jobsCancel({ ...opts, runId }, ctx)));

  jobs
    .command('pack-env')
    .description("Pack the jobs' packages (pandas, pyarrow, boto3; pinned) for EMR Serverless: the archive for submit --venv-archive")
    .requiredOption('--out <file>', 'the archive to write, e.g. venv.tar.gz')
    .addOption(new Option('--arch <arch>', "the EMR application's architecture").choices(['x86_64', 'aarch64']).default('x86_64'))
    .addOption(new Option('--interpreter <path>', "the image's Python 3.11 (default /usr/bin/python3.11)"))
    .addHelpText('after', examples(['coattail jobs pack-env --out venv.tar.gz', 'coattail jobs submit volume-anomaly --venv-archive venv.tar.gz']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/jobs/pack-env.js')).jobsPackEnv(opts, ctx)));

  const ddl = program.command('ddl').description('The Iceberg tables: apply ddl/ through Athena (or --local)');
  awsCommon(ddl.command('apply'))
    .description('Apply ddl/*.sql and ddl/migrations/*.sql, each statement once (a ledger in S3 records what was applied)')
    .addOption(new Option('--bucket <name>', 'bucket of the tables and the ledger').env('COATTAIL_BUCKET'))
    .addOption(new Option('--work-group <name>', 'Athena work group (default primary)').env('COATTAIL_ATHENA_WORKGROUP'))
    .addOption(new Option('--output-location <s3-uri>', 'Athena query results (default s3://<bucket>/coattail/athena-results/)').env('COATTAIL_ATHENA_OUTPUT'))
    .addOption(new Option('--ddl-dir <dir>', 'the DDL folder (default: ddl/ of the checkout)').env('COATTAIL_DDL_DIR'))
    .addOption(new Option('--dry-run', 'print the plan: what would be applied, what is already'))
    .addOption(new Option('--local', 'apply to the local Iceberg warehouse through Spark SQL'))
    .addOption(new Option('--warehouse <dir>', '--local: Iceberg warehouse folder').env('COATTAIL_WAREHOUSE'))
    .addHelpText('after', examples(['coattail ddl apply --bucket my-coattail --region eu-west-1 --dry-run', 'coattail ddl apply --work-group analytics', 'coattail ddl apply --local']))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/ddl.js')).ddlApply(opts, ctx)));
  emrCommon(program.command('reprocess'))
    .description("Re-run the anomaly logic over raw_trades as of a snapshot or time (Iceberg time travel); compare with what was raised")
    .addOption(new Option('--as-of <snapshot-id|time>', 'a raw_trades snapshot id, or an ISO-8601 time with its zone').env('COATTAIL_AS_OF'))
    .addOption(new Option('--set <name=value>', 'anomaly setting: threshold, min_periods (repeatable)').argParser((v: string, prev: string[]) => [...prev, v]).default([]))
    .addOption(new Option('--report <file>', 'where the comparison is saved as JSON (default .coattail/reprocess/<as-of>.json)').env('COATTAIL_REPROCESS_REPORT'))
    .addOption(new Option('--warehouse <dir>', 'local Iceberg warehouse').env('COATTAIL_WAREHOUSE'))
    .addOption(new Option('--emr', 'run reprocess-anomalies on EMR Serverless instead of local Spark'))
    .addOption(new Option('--execution-role-arn <arn>', '--emr: IAM role the job runs as').env('COATTAIL_EMR_ROLE_ARN'))
    .addOption(new Option('--bucket <name>', '--emr: S3 bucket for the bundle and logs').env('COATTAIL_BUCKET'))
    .addOption(new Option('--log-group <name>', '--emr: also send the logs to this CloudWatch Logs group').env('COATTAIL_EMR_LOG_GROUP'))
    .addOption(new Option('--venv-archive <file>', '--emr: packed virtualenv for spark.archives').env('COATTAIL_EMR_VENV_ARCHIVE'))
    .addOption(new Option('--emr-python <path>', "--emr: the image's Python when no --venv-archive").env('COATTAIL_EMR_PYTHON'))
    .addOption(new Option('--timeout-minutes <n>', '--emr: execution timeout').env('COATTAIL_EMR_TIMEOUT_MINUTES'))
    .addOption(new Option('--run-name <nonce>', '--emr: start a new run even when the same command ran before'))
    .addOption(new Option('--wait', '--emr: follow the run to its end'))
    .addOption(new Option('--cancel-on-interrupt', '--emr: with --wait, Ctrl-C cancels the run'))
    .addOption(new Option('--dry-run', '--emr: print the exact StartJobRun request and stop'))
    .addHelpText('after', examples([
      'coattail reprocess --as-of 2024-05-01T12:00:00Z',
      'coattail reprocess --as-of 5301479425378617361 --set threshold=3.0 --json',
      'coattail reprocess --as-of 2024-05-01T12:00:00Z --emr --report s3://my-coattail/reprocess/may1.json --wait',
    ]))
    .action(async (opts) => runCommand(global(), async (ctx) => (await import('./commands/reprocess.js')).reprocess(opts, ctx)));
  // ---- end jobs / ddl ----

  return program;
}

/** commander's `error: ...` message as our one line, with where to look. */
function usageLine(text: string): string {
  // commander may add a suggestion on a line of its own ("(Did you mean --max-trades?)"): one line.
  const message = text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
  return `coattail: ${message}. Run with --help for usage\n`;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['', '0', 'false', 'no', 'off']);

/**
 * commander turns a flag on whenever its environment variable is set, whatever the value: so
 * COATTAIL_AGGREGATE=false would aggregate. A flag set from the environment takes true/false, 1/0,
 * yes/no or on/off (any case); anything else is a usage error.
 */
export function readFlagsFromEnv(command: Command): void {
  for (const option of command.options) {
    if (option.required || option.optional || !option.envVar || option.negate) continue;
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== 'env') continue;
    const raw = process.env[option.envVar] ?? '';
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) continue;
    if (!FALSE_WORDS.has(word)) {
      command.error(`${option.envVar}='${raw}' is not a yes/no value: set it to true or false (1 or 0) for ${option.long ?? key}`, { code: 'coattail.invalidEnvFlag' });
    }
    command.setOptionValueWithSource(key, undefined, 'env');
  }
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // Help and --version end with 0; a usage error (already printed as one line) with 2.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
}

/** `--<exchange>-url`: the exchange's WebSocket URL, by default its public one (src/exchanges/registry.ts). */
function exchangeUrlOption(exchange: Exchange): Option {
  const e = EXCHANGE_REGISTRY[exchange];
  return new Option(`--${exchange}-url <url>`, `${e.displayName} WebSocket URL`).env(`COATTAIL_${exchange.toUpperCase()}_URL`).default(e.wsUrl);
}
