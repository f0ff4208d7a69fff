// The fields of a cron or Quartz expression (src/databricks/quartz.ts): each field's range and names,
// parsing a field into its items (`*`, `a-b/n`, lists, names), and writing them back with numbers only.
import { AppError } from '../errors.js'

export interface FieldSpec {
  label: string
  min: number
  max: number
  names?: readonly string[]
  /** Index of names[0]. */
  nameBase?: number
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const

export const SECOND: FieldSpec = { label: 'second', min: 0, max: 59 }
export const MINUTE: FieldSpec = { label: 'minute', min: 0, max: 59 }
export const HOUR: FieldSpec = { label: 'hour', min: 0, max: 23 }
export const DOM: FieldSpec = { label: 'day-of-month', min: 1, max: 31 }
export const MONTH: FieldSpec = { label: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 }
export const UNIX_DOW: FieldSpec = { label: 'day-of-week', min: 0, max: 7, names: DAYS, nameBase: 0 }
export const QUARTZ_DOW: FieldSpec = { label: 'day-of-week', min: 1, max: 7, names: DAYS, nameBase: 1 }

const EXAMPLE = 'Example: "0 6 * * 1-5" runs at 06:00 Monday to Friday; "*/15 * * * *" every 15 minutes.'

/** One comma-separated item of a field: `*`, `*\/n`, `a`, `a-b`, `a-b/n` or `a/n` (a..max step n). */
export interface Item {
  star: boolean
  start: number
  end: number
  step: number
  /** `a/n` form (start with a step, no explicit end). */
  open: boolean
}

export function invalid(message: string): AppError {
  return new AppError('CRON_INVALID', `${message} ${EXAMPLE}`)
}

function parseValue(text: string, spec: FieldSpec, isRangeEnd: boolean): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text)
    if (n < spec.min || n > spec.max) {
      throw invalid(
        `The ${spec.label} value ${n} is out of range (${spec.min}-${spec.max}${spec.names ? `, or ${spec.names[0]}-${spec.names.at(-1)}` : ''}).`,
      )
    }
    return n
  }
  const idx = spec.names?.indexOf(text.toUpperCase() as never) ?? -1
  if (idx < 0) throw invalid(`"${text}" is not a valid ${spec.label} value.`)
  const n = idx + (spec.nameBase ?? 0)
  // SUN at the end of a Unix range means 7 (so SAT-SUN is Saturday and Sunday).
  if (isRangeEnd && spec === UNIX_DOW && n === 0) return 7
  return n
}

export function parseField(text: string, spec: FieldSpec): Item[] {
  if (text === '') throw invalid(`The ${spec.label} field is empty.`)
  return text.split(',').map((part) => {
    const m = /^([^/]+)(?:\/(.*))?$/.exec(part)
    if (!m) throw invalid(`"${part}" in the ${spec.label} field is not valid.`)
    const base = m[1]!
    let step = 1
    if (m[2] !== undefined) {
      if (!/^\d+$/.test(m[2]) || Number(m[2]) < 1) {
        throw invalid(`The step "/${m[2]}" in the ${spec.label} field must be a whole number of at least 1.`)
      }
      step = Number(m[2])
      if (step > spec.max)
        throw invalid(`The step /${step} in the ${spec.label} field is larger than ${spec.max}.`)
    }
    if (base === '*') return { star: true, start: spec.min, end: spec.max, step, open: false }
    const range = base.split('-')
    if (range.length > 2 || range.some((r) => r === '')) {
      throw invalid(`"${part}" in the ${spec.label} field is not a valid value or range.`)
    }
    const start = parseValue(range[0]!, spec, false)
    if (range.length === 2) {
      const end = parseValue(range[1]!, spec, true)
      if (end < start) {
        throw invalid(
          `The range ${base} in the ${spec.label} field goes backwards; write the lower value first.`,
        )
      }
      return { star: false, start, end, step, open: false }
    }
    if (m[2] !== undefined) return { star: false, start, end: spec.max, step, open: true }
    return { star: false, start, end: start, step, open: false }
  })
}

export function values(items: Item[]): Set<number> {
  const out = new Set<number>()
  for (const it of items) for (let v = it.start; v <= it.end; v += it.step) out.add(v)
  return out
}

/** Re-serialises a field with numbers only, keeping its shape (`*\/5` stays `*\/5`). */
export function formatItems(items: Item[]): string {
  return items
    .map((it) => {
      const suffix = it.step > 1 || it.open ? `/${it.step}` : ''
      if (it.star) return `*${suffix}`
      if (it.open) return `${it.start}${suffix}`
      return it.start === it.end ? `${it.start}${suffix}` : `${it.start}-${it.end}${suffix}`
    })
    .join(',')
}

/** Compact sorted list of ranges: 1,2,3,6 -> "1-3,6". */
export function formatSet(set: Set<number>): string {
  const sorted = [...set].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}

/** Only a bare `*` leaves a day field free: cron implementations disagree on `*\/1` next to a weekday. */
export function isUnrestricted(text: string): boolean {
  return text === '*' || text === '?'
}

/** Unix 0-7 (0 and 7 = Sunday) -> Quartz 1-7 (1 = Sunday). */
export function unixDowToQuartz(items: Item[]): string {
  const days = new Set([...values(items)].map((d) => (d % 7) + 1))
  return days.size === 7 ? '*' : formatSet(days)
}
