// The Inventory detail's Changes view: a timeline of the table's last 30 runs (added / removed /
// modified), the change records of a selected run as a diff (changed columns before -> after, added
// and removed rows in full), filtered by kind and profile, paged, and as CSV.
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { changeProfiles, changeRuns, readChanges } from '../../src/db/changes.js'
import { INVENTORY_SCHEMA } from '../../src/db/identifiers.js'
import { changesChart } from '../../src/render/changes-chart.js'
import { formatTime } from '../../src/render/format.js'

const PAGE = 50
const Params = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) })
const Query = Type.Object({
  run: Type.Optional(Type.Integer({ minimum: 1 })),
  kind: Type.Optional(
    Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('modified'), Type.Literal('')]),
  ),
  profile: Type.Optional(Type.String({ maxLength: 200 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
})
interface Q {
  run?: number
  kind?: 'added' | 'removed' | 'modified' | ''
  profile?: string
  page?: number
}

const show = (v: unknown) =>
  v === null || v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v)

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function registerChanges(app: FastifyInstance): void {
  async function load(name: string, q: Q, limit: number) {
    await app.db.getInventoryPreview(name, 1) // 400 / 404 for a bad or unknown table
    const runs = await app.db.use((sql) => changeRuns(sql, INVENTORY_SCHEMA, name, 30))
    const selected =
      runs.find((r) => r.id === q.run) ??
      runs.find((r) => r.status === 'SUCCESS' && !r.changes_baseline) ??
      null
    const page = q.page ?? 1
    const filter = {
      schema: INVENTORY_SCHEMA,
      table: name,
      runId: selected?.id ?? 0,
      kind: q.kind || undefined,
      profile: q.profile || undefined,
      limit,
      offset: (page - 1) * limit,
    }
    const [found, profiles] = await Promise.all([
      app.db.use((sql) => readChanges(sql, filter)),
      selected ? app.db.use((sql) => changeProfiles(sql, INVENTORY_SCHEMA, name, selected.id)) : [],
    ])
    return { runs, selected, page, found, profiles, filter }
  }

  app.get<{ Params: { name: string }; Querystring: Q }>(
    '/tables/:name/changes',
    { schema: { params: Params, querystring: Query } },
    async (req, reply) => {
      const { name } = req.params
      const { runs, selected, page, found, profiles, filter } = await load(name, req.query, PAGE)
      const points = [...runs].reverse().map((r) => ({
        label: `${formatTime(r.started_at)} · ${r.status}${r.changes_baseline ? ' · baseline' : r.added_count != null ? ` · +${r.added_count} −${r.removed_count} ~${r.modified_count}` : ''}`,
        added: r.added_count ?? 0,
        removed: r.removed_count ?? 0,
        modified: r.modified_count ?? 0,
        baseline: !!r.changes_baseline,
        failed: r.status === 'FAILED',
      }))
      const records = found.records.map((c) => ({
        kind: c.change_kind,
        profile: c.profile,
        key: c.row_key
          ? Object.entries(c.row_key)
              .map(([k, v]) => `${k}=${show(v)}`)
              .join(', ')
          : null,
        diff:
          c.change_kind === 'modified'
            ? (c.changed_columns ?? []).map((col) => ({
                col,
                before: show(c.before?.[col]),
                after: show(c.after?.[col]),
              }))
            : [],
        row: Object.entries((c.change_kind === 'removed' ? c.before : c.after) ?? {}).map(([col, v]) => ({
          col,
          value: show(v),
        })),
      }))
      const qs = (p: number) =>
        `/inventory/tables/${encodeURIComponent(name)}/changes?run=${filter.runId}&kind=${filter.kind ?? ''}&profile=${encodeURIComponent(filter.profile ?? '')}&page=${p}`
      return reply.render('inventory/_changes', {
        name,
        chart: changesChart(points, `Changes of the last ${runs.length} runs of ${name}`),
        runs: runs.map((r) => ({ id: r.id, label: points[runs.length - 1 - runs.indexOf(r)]!.label })),
        selected: selected && {
          id: selected.id,
          counts: selected.changes_baseline
            ? 'baseline'
            : `+${selected.added_count ?? 0} −${selected.removed_count ?? 0} ~${selected.modified_count ?? 0}`,
          // "What changed" asks the assistant about a run that recorded changes (not a baseline).
          explainable:
            !selected.changes_baseline &&
            (selected.added_count ?? 0) + (selected.removed_count ?? 0) + (selected.modified_count ?? 0) > 0,
        },
        records,
        total: found.total,
        page,
        pages: Math.max(1, Math.ceil(found.total / PAGE)),
        prev: page > 1 ? qs(page - 1) : null,
        next: page * PAGE < found.total ? qs(page + 1) : null,
        kind: filter.kind ?? '',
        profile: filter.profile ?? '',
        profiles,
        csv: `/inventory/tables/${encodeURIComponent(name)}/changes.csv?run=${filter.runId}&kind=${filter.kind ?? ''}&profile=${encodeURIComponent(filter.profile ?? '')}`,
      })
    },
  )

  app.get<{ Params: { name: string }; Querystring: Q }>(
    '/tables/:name/changes.csv',
    { schema: { params: Params, querystring: Query } },
    async (req, reply) => {
      const { found, filter } = await load(req.params.name, { ...req.query, page: 1 }, 100_000)
      const lines = ['change_kind,profile,row_key,changed_columns,before,after']
      for (const c of found.records)
        lines.push(
          [c.change_kind, c.profile, c.row_key, c.changed_columns?.join(' '), c.before, c.after]
            .map(csvCell)
            .join(','),
        )
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="${req.params.name}-run-${filter.runId}-changes.csv"`,
        )
        .send(`${lines.join('\n')}\n`)
    },
  )
}
