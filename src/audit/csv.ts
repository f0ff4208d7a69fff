// The Audit page's CSV download: one line per row, RFC 4180 quoting, and cells that a spreadsheet
// would read as a formula (=, +, -, @, tab, CR) prefixed with an apostrophe.
import type { AuditRow } from '../db/audit.js'

export const AUDIT_CSV_COLUMNS = [
  'time',
  'user',
  'role',
  'request_id',
  'action',
  'outcome',
  'status',
  'details',
]

export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function auditCsvLine(row: AuditRow): string {
  return [
    new Date(row.at).toISOString(),
    row.user_email,
    row.role,
    row.request_id,
    row.action,
    row.outcome,
    row.status ?? '',
    JSON.stringify(row.details),
  ]
    .map(csvCell)
    .join(',')
}
