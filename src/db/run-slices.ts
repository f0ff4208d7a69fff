// Per-slice outcomes of fan-out runs (stackql_app.run_slices) and the schedules naming a profile.
import { AppError } from '../errors.js'
import type { RunSlice } from '../models.js'
import type { Sql } from './connect.js'

type Q = Sql

/** Records every slice's outcome of one run (idempotent per run and slice). */
export async function recordRunSlices(
  sql: Q,
  runId: number,
  slices: Omit<RunSlice, 'run_id'>[],
): Promise<void> {
  for (const s of slices) {
    await sql`
      insert into stackql_app.run_slices (run_id, provider, profile, status, rows, elapsed_ms, error)
      values (${runId}, ${s.provider}, ${s.profile}, ${s.status}, ${s.rows}, ${Math.round(s.elapsed_ms)}, ${s.error})
      on conflict (run_id, provider, profile) do update set status = excluded.status, rows = excluded.rows,
        elapsed_ms = excluded.elapsed_ms, error = excluded.error`
  }
}

/** The slices of the given runs, keyed by run id (failed slices first, then by profile). */
export async function slicesOfRuns(sql: Q, runIds: number[]): Promise<Map<number, RunSlice[]>> {
  const out = new Map<number, RunSlice[]>()
  if (!runIds.length) return out
  const rows = await sql<RunSlice[]>`
    select run_id::int8 as run_id, provider, profile, status, rows::int8 as rows, elapsed_ms, error
    from stackql_app.run_slices where run_id = any(${sql.array(runIds)}::int8[])
    order by run_id, status = 'SUCCESS', provider, profile`
  for (const r of rows) {
    const run = Number(r.run_id)
    const s = { ...r, run_id: run, rows: r.rows === null ? null : Number(r.rows) }
    out.set(run, [...(out.get(run) ?? []), s])
  }
  return out
}

/** Schedules whose profiles name `provider/profile` explicitly (a `provider/*` schedule is not blocked). */
export async function schedulesNamingProfile(
  sql: Q,
  provider: string,
  profile: string,
): Promise<{ id: number; target_schema: string; target_table: string }[]> {
  return sql<{ id: number; target_schema: string; target_table: string }[]>`
    select id, target_schema, target_table from stackql_app.schedules
    where ${`${provider}/${profile}`} = any(profiles) order by id`
}

/**
 * Refuses to delete mapping `id` when it is the last mapping of its profile and a schedule names
 * that profile (a 409 naming the schedules, like deleting a query in use).
 */
export async function refuseRemovingScheduledProfile(sql: Q, id: number): Promise<void> {
  const [m] = await sql<{ provider: string; profile: string; others: number }[]>`
    select c.provider, c.profile, (select count(*)::int from stackql_app.provider_config o
      where o.provider = c.provider and o.profile = c.profile and o.id <> c.id) as others
    from stackql_app.provider_config c where c.id = ${id}`
  if (!m || m.others > 0) return
  const users = await schedulesNamingProfile(sql, m.provider, m.profile)
  if (!users.length) return
  throw new AppError(
    'CONFLICT',
    `Profile ${m.provider}/${m.profile} is used by ${users.length} schedule(s) (${users.map((u) => `${u.target_schema}.${u.target_table}`).join(', ')}). Remove the profile from those schedules on the Schedules page first.`,
  )
}
