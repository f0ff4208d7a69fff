// The job runner's command-line interface (jobs/run-query.ts), built in one place for the
// Databricks job task parameters and the local "Run now" child process.
import type { Schedule } from '../models.js'

/**
 * The runner's arguments for a schedule: what a Databricks job task passes (its launcher adds
 * `--trigger databricks`), and, with a trigger, what "Run now" passes locally.
 */
export function runnerArgs(schedule: Schedule, trigger?: 'local' | 'databricks'): string[] {
  const args = [
    '--query-id',
    String(schedule.query_id),
    '--target-schema',
    schedule.target_schema,
    '--target-table',
    schedule.target_table,
    '--schedule-id',
    String(schedule.id),
  ]
  return trigger ? [...args, '--trigger', trigger] : args
}
