/** `coattail ddl apply`: what it accepts. */
import { Command, Option } from 'commander';
import { awsCommon, examples, type Action } from './options.js';

export function ddlCommand(parent: Command, actions: { apply: Action }): Command {
  const ddl = parent.command('ddl').description('The Iceberg tables: apply ddl/ through Athena (or --local)');
  awsCommon(ddl.command('apply'))
    .description('Apply ddl/*.sql and ddl/migrations/*.sql, each statement once (a ledger in S3 records what was applied)')
    .addOption(new Option('--bucket <name>', 'bucket of the tables and the ledger').env('COATTAIL_BUCKET'))
    .addOption(new Option('--work-group <name>', 'Athena work group (default primary)').env('COATTAIL_ATHENA_WORKGROUP'))
    .addOption(
      new Option('--output-location <s3-uri>', 'Athena query results (default s3://<bucket>/coattail/athena-results/)').env(
        'COATTAIL_ATHENA_OUTPUT',
      ),
    )
    .addOption(new Option('--ddl-dir <dir>', 'the DDL folder (default: ddl/ of the checkout)').env('COATTAIL_DDL_DIR'))
    .addOption(new Option('--dry-run', 'print the plan: what would be applied, what is already'))
    .addOption(new Option('--local', 'apply to the local Iceberg warehouse through Spark SQL').env('COATTAIL_LOCAL'))
    .addOption(new Option('--warehouse <dir>', '--local: Iceberg warehouse folder').env('COATTAIL_WAREHOUSE'))
    .addHelpText(
      'after',
      examples([
        'coattail ddl apply --bucket my-coattail --region eu-west-1 --dry-run',
        'coattail ddl apply --work-group analytics',
        'coattail ddl apply --local',
      ]),
    )
    .action(actions.apply);
  return ddl;
}
