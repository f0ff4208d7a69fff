// The Audit page (admins only): who did what, filtered by user, action, outcome and time, 50 rows a
// page, and the same selection as a CSV download. Admin-only by the rules in src/access/rules.ts. Reads through app.auditLog (src/db/audit.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AUDIT_CSV_COLUMNS, auditCsvLine } from '../../src/audit/csv.js'
import type { AuditFilter } from '../../src/db/audit.js'
import { AppError } from '../../src/errors.js'

const PAGE_SIZE = 50
const CSV_MAX_ROWS = 100_000

const Filters = Type.Object({
  user: Type.Optional(Type.String({ maxLength: 200 })),
  action: Type.Optional(Type.String({ maxLength: 100 })),
  outcome: Type.Optional(
    Type.Union([
      Type.Literal(''),
      Type.Literal('ok'),
      Type.Literal('failed'),
      Type.Literal('denied'),
      Type.Literal('started'),
    ]),
  ),
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
})
type FilterQuery = {
  user?: string
  action?: string
  outcome?: string
  from?: string
  to?: string
  page?: number
}

function when(value: string | undefined, field: string, endOfDay: boolean): Date | undefined {
  const v = (value ?? '').trim()
  if (!v) return undefined
  // A date (from the date picker) means the whole day; a full timestamp is taken as it is.
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v)
  if (Number.isNaN(d.getTime())) {
    throw new AppError('VALIDATION', `"${v}" is not a date for "${field}": use YYYY-MM-DD.`)
  }
  if (endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(v)) d.setUTCDate(d.getUTCDate() + 1)
  return d
}

function filterOf(q: FilterQuery): AuditFilter {
  return {
    user: q.user?.trim() || undefined,
    action: q.action?.trim() || undefined,
    outcome: q.outcome || undefined,
    from: when(q.from, 'from', false),
    to: when(q.to, 'to', true),
  }
}

const audit: FastifyPluginAsyncTypebox = async (app) => {
  app.navigation.push({ href: '/audit', label: 'Audit', role: 'admin' })

  app.get('/', { schema: { querystring: Filters } }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const q = req.query as FilterQuery
    const filter = filterOf(q)
    const page = q.page ?? 1
    const [{ rows, total }, actions] = await Promise.all([
      app.auditLog.list(filter, PAGE_SIZE, (page - 1) * PAGE_SIZE),
      app.auditLog.actions(),
    ])
    const params = new URLSearchParams()
    for (const k of ['user', 'action', 'outcome', 'from', 'to'] as const)
      if (q[k]) params.set(k, String(q[k]))
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))
    const link = (p: number) => {
      const s = new URLSearchParams(params)
      s.set('page', String(p))
      return `/audit?${s}`
    }
    const data = {
      rows: rows.map((r) => ({
        ...r,
        at: new Date(r.at).toISOString().replace('T', ' ').slice(0, 19),
        json: JSON.stringify(r.details, null, 1),
      })),
      total,
      page,
      pages,
      prev: page > 1 ? link(page - 1) : null,
      next: page < pages ? link(page + 1) : null,
      csv: `/audit/audit.csv${params.size ? `?${params}` : ''}`,
      q,
      actions,
      retentionDays: app.config.auditRetentionDays,
    }
    return reply.render(req.isPartial ? 'audit/_table' : 'audit/index', data, { title: 'Audit' })
  })

  app.get('/audit.csv', { schema: { querystring: Filters } }, async (req, reply) => {
    const filter = filterOf(req.query as FilterQuery)
    const { rows } = await app.auditLog.list(filter, CSV_MAX_ROWS, 0)
    const body = [AUDIT_CSV_COLUMNS.join(','), ...rows.map(auditCsvLine)].join('\r\n')
    const stamp = new Date().toISOString().slice(0, 10)
    return reply
      .header('cache-control', 'no-store')
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="stackql-audit-${stamp}.csv"`)
      .send(`${body}\r\n`)
  })
}

export default audit
