// "What changed" for the chat: reads a run and a sample of its change records and builds the
// Interpret-mode prompt (src/changes/what-changed.ts). A run without change records to explain is a
// clear 4xx, before anything is sent to the assistant.
import type { FastifyInstance } from 'fastify'
import { WHAT_CHANGED_RECORDS, whatChangedPrompt } from '../../src/changes/what-changed.js'
import { changeSample, changeSummaryRun } from '../../src/db/change-summary.js'
import { AppError } from '../../src/errors.js'

export async function whatChangedText(app: FastifyInstance, runId: number | undefined): Promise<string> {
  if (!runId) throw new AppError('VALIDATION', 'Say which run to explain: "What changed" needs a run id.')
  const run = await app.db.use((sql) => changeSummaryRun(sql, runId))
  if (!run) throw new AppError('NOT_FOUND', `Run ${runId} does not exist (it may have been deleted).`)
  if (run.changes_baseline) {
    throw new AppError(
      'VALIDATION',
      `Run ${runId} was the first run of ${run.target_schema}.${run.target_table}: it recorded a baseline (counts only), so there are no changes to explain. Pick a later run.`,
    )
  }
  if (run.added_count == null || run.removed_count == null || run.modified_count == null) {
    throw new AppError(
      'VALIDATION',
      `Run ${runId} recorded no changes (status ${run.status}: failed and running runs, and runs of versions before change history, have none). Pick a successful run.`,
    )
  }
  // Each kind's first 50: the builder shares the 50 it sends between the kinds.
  const records = await app.db.use((sql) => changeSample(sql, runId, WHAT_CHANGED_RECORDS))
  return whatChangedPrompt(run, records)
}
