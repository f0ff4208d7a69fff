// The job runner: runs one saved query and replaces its inventory table. Boots the same service
// plugins as the web app (no pages, no listener), reads DB settings and provider credentials from
// its own environment. Exit codes: 0 success, 3 partial (some profile slices failed), 1 run failed (one-line reason on stderr), 2 bad
// arguments, 130/143 interrupted (SIGINT/SIGTERM: the query is aborted, the run recorded FAILED).
//   npm run job -- --query-id N --target-schema S --target-table T [--schedule-id N]
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { buildServiceApp, loggerOptions } from '../plugins/services/index.js'
import { loadConfig, loadDotEnvForDevelopment } from '../src/config.js'
import { AppError, isAppError } from '../src/errors.js'
import {
  type InventoryRunArgs,
  type InventoryRunOutcome,
  oneLine,
  runInventory,
} from '../src/services/inventory-run.js'
import { finishIterations, runIteration } from '../src/services/iteration-run.js'

const USAGE = `usage: run-query --query-id N --target-schema SCHEMA --target-table TABLE [--schedule-id N] [--trigger local|databricks]
                 [--timeout-s SECONDS] [--log-file PATH] [--profiles aws/prod,aws/staging|aws/*]
                 [--profile aws/prod --job-run-id ID | --finish --profiles ... --job-run-id ID]
  Runs saved query N and replaces SCHEMA.TABLE with its rows (a runs record is written either way).
  --timeout-s bounds the whole run (it is stopped and recorded FAILED after that long);
  --log-file names the file this process logs to, so a failed run's record can point to it;
  --profiles runs the query once per profile slice (SLICE_CONCURRENCY at once) with only that
  profile's credentials; some slices failing is PARTIAL (exit 3): their previous rows are kept.
  --profile (one for_each iteration) runs that one slice and replaces only its profile's rows,
  recorded under --job-run-id (exit 1 when the slice failed); --finish (the task after the
  iterations) refreshes TABLE_mv and closes the run from what the iterations recorded.`

type CliArgs = InventoryRunArgs & {
  timeoutMs?: number
  profile?: string
  finish?: boolean
  jobRunId?: string
}

function parse(argv: string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      'query-id': { type: 'string' },
      'target-schema': { type: 'string' },
      'target-table': { type: 'string' },
      'schedule-id': { type: 'string' },
      trigger: { type: 'string' },
      'timeout-s': { type: 'string' },
      'log-file': { type: 'string' },
      profiles: { type: 'string' },
      profile: { type: 'string' },
      finish: { type: 'boolean' },
      'job-run-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  if (positionals.length) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const int = (name: 'query-id' | 'schedule-id'): number | undefined => {
    const v = values[name]
    if (v === undefined) return undefined
    if (!/^[1-9][0-9]{0,15}$/.test(v))
      throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(v)}`)
    return Number(v)
  }
  const queryId = int('query-id')
  if (queryId === undefined) throw new Error('--query-id is required')
  for (const name of ['target-schema', 'target-table'] as const) {
    if (!values[name]) throw new Error(`--${name} is required`)
  }
  if (values.trigger !== undefined && !/^(local|databricks)$/.test(values.trigger)) {
    throw new Error('--trigger must be local or databricks')
  }
  const timeout = values['timeout-s']
  if (timeout !== undefined && !(/^[0-9]{1,7}(\.[0-9]+)?$/.test(timeout) && Number(timeout) > 0)) {
    throw new Error(`--timeout-s must be a positive number of seconds, got ${JSON.stringify(timeout)}`)
  }
  const jobRunId = values['job-run-id']
  if (values.profile !== undefined && values.finish)
    throw new Error('--profile and --finish exclude each other')
  if (values.profile !== undefined && values.profiles !== undefined)
    throw new Error('--profile (one for_each iteration) and --profiles exclude each other')
  if (values.finish && values.profiles === undefined) throw new Error('--finish needs --profiles')
  if ((values.profile !== undefined || values.finish) && !jobRunId)
    throw new Error(`${values.finish ? '--finish' : '--profile'} needs --job-run-id`)
  if (jobRunId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(jobRunId))
    throw new Error(`--job-run-id must be a job run id, got ${JSON.stringify(jobRunId)}`)
  if (jobRunId !== undefined && values.profile === undefined && !values.finish)
    throw new Error('--job-run-id goes with --profile or --finish')
  return {
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    ...(values.finish ? { finish: true } : {}),
    ...(jobRunId !== undefined ? { jobRunId } : {}),
    queryId,
    timeoutMs: timeout === undefined ? undefined : Math.round(Number(timeout) * 1000),
    logFile: values['log-file'],
    targetSchema: values['target-schema']!,
    targetTable: values['target-table']!,
    scheduleId: int('schedule-id'),
    trigger: values.trigger ?? 'local',
    ...(values.profiles !== undefined ? { profiles: values.profiles } : {}),
  }
}

async function main(): Promise<number> {
  let args: CliArgs
  try {
    args = parse(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`run-query: ${(e as Error).message}\n${USAGE}\n`)
    return 2
  }

  const controller = new AbortController()
  let interrupted: number | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted !== undefined) process.exit(interrupted) // second signal: stop waiting
    interrupted = signal === 'SIGINT' ? 130 : 143
    controller.abort(new Error(`${signal} received`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // The whole run's bound (a local "Run now" passes the query timeout + a margin). It lives in this
  // process, so it holds even when the server that started it restarts.
  if (args.timeoutMs !== undefined) {
    const seconds = Math.round(args.timeoutMs / 100) / 10
    const timer = setTimeout(() => {
      controller.abort(
        new AppError(
          'RUNNER_FAILED',
          `The run took longer than ${seconds} s (the query timeout plus a margin) and was stopped; the previous rows are kept. Narrow the query or raise STACKQL_QUERY_TIMEOUT_S.`,
        ),
      )
      // Still here a minute later (stuck in a write): exit; the database rolls the write back.
      setTimeout(() => process.exit(1), 60_000).unref()
    }, args.timeoutMs)
    timer.unref()
  }

  let app: FastifyInstance | undefined
  try {
    loadDotEnvForDevelopment()
    const config = loadConfig()
    // Logs go to stdout (the job's driver log / the app's log for Run now); stderr carries only the reason line.
    app = await buildServiceApp(config, { credentialSource: 'environment', logger: loggerOptions(config) })
    const deps = {
      db: app.db,
      sql: app.sql,
      queries: app.queries,
      log: app.log,
      writeLimits: config.inventoryWriter,
      sliceConcurrency: config.sliceConcurrency,
      changeRetentionDays: config.changeRetentionDays,
    }
    let outcome: InventoryRunOutcome
    if (args.profile !== undefined && args.jobRunId) {
      outcome = await runIteration(
        deps,
        { ...args, profile: args.profile, jobRunId: args.jobRunId },
        controller.signal,
      )
      if (outcome.status === 'SUCCESS') {
        process.stdout.write(
          `run ${outcome.runId}: slice ${args.profile} wrote ${outcome.rowCount} rows to ${args.targetSchema}.${args.targetTable}\n`,
        )
        return interrupted ?? 0
      }
      process.stderr.write(`${oneLine(outcome.error ?? 'the slice failed')}\n`)
      return interrupted ?? 1
    }
    outcome =
      args.finish && args.jobRunId && args.profiles
        ? await finishIterations(deps, { ...args, profiles: args.profiles, jobRunId: args.jobRunId })
        : await runInventory(deps, args, controller.signal)
    if (outcome.status === 'SUCCESS') {
      process.stdout.write(
        `run ${outcome.runId}: wrote ${outcome.rowCount} rows to ${args.targetSchema}.${args.targetTable}\n`,
      )
      return interrupted ?? 0
    }
    if (outcome.status === 'PARTIAL') {
      process.stdout.write(
        `run ${outcome.runId}: wrote ${outcome.rowCount} rows to ${args.targetSchema}.${args.targetTable} (partial)\n`,
      )
      process.stderr.write(`${oneLine(outcome.error ?? 'some profile slices failed')}\n`)
      return interrupted ?? 3
    }
    process.stderr.write(`${oneLine(outcome.error ?? 'the run failed')}\n`)
    return interrupted ?? 1
  } catch (e) {
    process.stderr.write(
      `${oneLine(isAppError(e) ? e.message : `Unexpected error: ${(e as Error).message}`)}\n`,
    )
    return interrupted ?? 1
  } finally {
    await app?.close().catch(() => {})
  }
}

main().then(
  (code) => process.exit(code),
  () => process.exit(1),
)
