// What the runner writes into the catalog about an inventory table after a successful run (table and
// column comments, src/db/table-comments.ts): which saved query fills it, its description and
// statement, the schedule, the last run; per column the provider's field description when the
// explorer's metadata cache has it, else where the column comes from.
import type { Sql } from '../db/connect.js'
import { cachedFieldDescriptions, writeTableComments } from '../db/table-comments.js'
import type { Query, Schedule } from '../models.js'
import { findPlaceholders, maskPlaceholders } from '../profiles/variables.js'
import { resourceReferences } from '../stackql/references.js'

export interface DescribedRun {
  query: Query
  schedule: Schedule | null
  runId: number
  rowCount: number
  /** Result key -> table column, for the columns the run wrote. */
  columns: { source: string; name: string }[]
}

const MAX_STATEMENT = 2000

export function tableComment(run: DescribedRun, at: Date): string {
  const { query, schedule } = run
  const statement =
    query.query_text.length > MAX_STATEMENT
      ? `${query.query_text.slice(0, MAX_STATEMENT)}…`
      : query.query_text
  return [
    `StackQL inventory table written by the saved query "${query.name}" (provider ${query.provider}).`,
    query.description ? `Description: ${query.description}` : '',
    `Statement: ${statement}`,
    schedule ? `Schedule ${schedule.id}: cron ${schedule.cron_expression}.` : 'Written without a schedule.',
    `Last run ${run.runId} at ${at.toISOString()}: ${run.rowCount} rows.`,
    'Columns _profile (fan-out runs) name the credential profile (account, subscription, project) a row was read with.',
  ]
    .filter(Boolean)
    .join('\n')
}

/** Writes the comments; the caller logs a failure (it never fails the run). */
export async function describeTable(
  sql: Sql,
  target: { schema: string; table: string },
  run: DescribedRun,
): Promise<void> {
  // Profile variables ({{ regions }}) are not StackQL tokens: mask them before reading the references.
  const text = run.query.query_text
  const refs = resourceReferences(maskPlaceholders(text, findPlaceholders(text)))
  const resources = [...new Set(refs.map((r) => `${r.provider}.${r.service}.${r.resource}`))]
  const fields = await cachedFieldDescriptions(sql, resources)
  const from = resources.length ? `from ${resources.join(', ')}` : `from the query "${run.query.name}"`
  const columns = new Map<string, string>()
  for (const c of run.columns) {
    if (c.source === '_profile') {
      columns.set(c.name, 'Credential profile (account, subscription, project) the row was read with.')
      continue
    }
    const known = fields.get(c.source)
    columns.set(c.name, known ? `${known} (${from}, field ${c.source})` : `${c.source}, ${from}`)
  }
  await writeTableComments(sql, target, { table: tableComment(run, new Date()), columns })
}
