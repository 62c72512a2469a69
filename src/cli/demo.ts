/** `coattail demo` and `coattail demo schema-evolution`: what they accept. */
import { Command, Option } from 'commander';
import { examples, passSharedOptions, setOption, type Action } from './options.js';

export function demoCommand(parent: Command, actions: { demo: Action; schemaEvolution: Action }): Command {
  const demo = parent
    .command('demo')
    .description(
      'The whole pipeline locally: emulators, the market simulator (or --live), ingest, the four Spark jobs, alerts and Iceberg history, the live alert view (tab or 1/2/3: whales, anomalies, spreads)',
    )
    .addOption(
      new Option('--headless', 'no live view: run, then print a summary (also when stdout is not a terminal)').env(
        'COATTAIL_DEMO_HEADLESS',
      ),
    )
    .addOption(
      new Option(
        '--duration <duration>',
        'this long of market, then stop: 90 (seconds), 30s, 15m, 2h, 1d; 1s to 365d (default: until Ctrl-C, or the end of a bounded scenario)',
      ).env('COATTAIL_DEMO_DURATION'),
    )
    .addOption(new Option('--json', 'the summary as one JSON object on stdout (implies --headless)'))
    .addOption(
      new Option('--scenario <name|file>', 'simulator scenario: built-in name or JSON file')
        .env('COATTAIL_DEMO_SCENARIO')
        .default('default'),
    )
    .addOption(new Option('--seed <n>', 'simulator seed (overrides the scenario)').env('COATTAIL_SIM_SEED'))
    .addOption(new Option('--live', 'the real exchanges instead of the simulator (needs the internet)').env('COATTAIL_DEMO_LIVE'))
    .addOption(
      new Option(
        '--dir <folder>',
        'warehouse, checkpoints, raw zone and logs: a new or empty folder, or one the demo made (it deletes in it)',
      )
        .env('COATTAIL_DEMO_DIR')
        .default('.coattail/demo'),
    )
    .addOption(new Option('--fresh', 'clear the warehouse, raw zone and logs first (checkpoints are cleared every run)'))
    .addOption(
      new Option('--symbols <list>', "BASE-QUOTE symbols (default: the scenario's; with --live BTC-USDT,ETH-USDT,SOL-USDT)").env(
        'COATTAIL_SYMBOLS',
      ),
    )
    .addOption(
      new Option(
        '--watermark <duration>',
        "every job's watermark, e.g. 10s (0 to 1d; default 30s on the simulator, the jobs' 2m with --live)",
      ).env('COATTAIL_DEMO_WATERMARK'),
    )
    .addOption(
      setOption(
        '<JOB:NAME=VALUE>',
        "one job's setting (repeatable): threshold, min_periods, watermark, trigger, symbols; whale-detector also history_trigger",
      ),
    )
    .addOption(
      new Option(
        '--align <second>',
        "start the simulator so that its second S falls on a whole minute (lines scripted events up with the jobs' windows; a scenario that opens at once, such as scripted)",
      ).env('COATTAIL_DEMO_ALIGN'),
    )
    .addOption(new Option('--record <file>', 'write every trade the simulator prints as NDJSON'))
    .addOption(
      new Option('--spark-apps <n>', '2: the whale detector in a Spark application of its own (default); 1: all four jobs in one')
        .choices(['1', '2'])
        .env('COATTAIL_DEMO_SPARK_APPS')
        .default('2'),
    )
    .addOption(
      new Option('--start-timeout <duration>', 'longest wait for Spark to start and run its first micro-batches (1s to 1h)')
        .env('COATTAIL_DEMO_START_TIMEOUT')
        .default('240'),
    )
    .addOption(
      new Option('--drain-timeout <duration>', 'after the ingest stops, longest wait for the jobs to finish what is in flight (1s to 1h)')
        .env('COATTAIL_DEMO_DRAIN_TIMEOUT')
        .default('60'),
    )
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
    .action(actions.demo);
  demo
    .command('schema-evolution')
    .description('Add a column to an Iceberg table of its own: old rows read NULL, new rows carry it, no data file rewritten')
    .addOption(new Option('--json', 'the report as one JSON object on stdout'))
    .addOption(new Option('--warehouse <dir>', 'local Iceberg warehouse').env('COATTAIL_WAREHOUSE'))
    .addHelpText('after', examples(['coattail demo schema-evolution', 'coattail demo schema-evolution --json | jq .files']))
    .action(actions.schemaEvolution);
  // `demo schema-evolution --json`: commander gives --json to the demo, which declares it too; it is the subcommand's.
  demo.hook('preSubcommand', passSharedOptions);
  return demo;
}
