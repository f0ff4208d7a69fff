// Cron for people: users type 5-field Unix cron (or paste a Quartz expression); Databricks Jobs
// need Quartz. The preview (text and next run times) is computed FROM the Quartz we produce.
import { CronExpressionParser } from 'cron-parser'
import cronstrue from 'cronstrue'
import { AppError } from '../errors.js'

export interface ParsedSchedule {
  /** The Quartz expression Databricks receives: `sec min hour dom month dow` (6 fields). */
  quartz: string
  /** The equivalent Unix expression (numbers only), when one exists (seconds = 0). */
  unix?: string
  /** Human-readable text of the Quartz expression, with the timezone. */
  description: string
  timezone: string
  /** The next `n` fire times of the Quartz expression, strictly after `from` (default now). */
  nextRuns(n: number, from?: Date): Date[]
}

interface FieldSpec {
  label: string
  min: number
  max: number
  names?: readonly string[]
  /** Index of names[0]. */
  nameBase?: number
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const

const SECOND: FieldSpec = { label: 'second', min: 0, max: 59 }
const MINUTE: FieldSpec = { label: 'minute', min: 0, max: 59 }
const HOUR: FieldSpec = { label: 'hour', min: 0, max: 23 }
const DOM: FieldSpec = { label: 'day-of-month', min: 1, max: 31 }
const MONTH: FieldSpec = { label: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 }
const UNIX_DOW: FieldSpec = { label: 'day-of-week', min: 0, max: 7, names: DAYS, nameBase: 0 }
const QUARTZ_DOW: FieldSpec = { label: 'day-of-week', min: 1, max: 7, names: DAYS, nameBase: 1 }

const EXAMPLE = 'Example: "0 6 * * 1-5" runs at 06:00 Monday to Friday; "*/15 * * * *" every 15 minutes.'

const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
}

/** One comma-separated item of a field: `*`, `*\/n`, `a`, `a-b`, `a-b/n` or `a/n` (a..max step n). */
interface Item {
  star: boolean
  start: number
  end: number
  step: number
  /** `a/n` form (start with a step, no explicit end). */
  open: boolean
}

function invalid(message: string): AppError {
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

function parseField(text: string, spec: FieldSpec): Item[] {
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

function values(items: Item[]): Set<number> {
  const out = new Set<number>()
  for (const it of items) for (let v = it.start; v <= it.end; v += it.step) out.add(v)
  return out
}

/** Re-serialises a field with numbers only, keeping its shape (`*\/5` stays `*\/5`). */
function formatItems(items: Item[]): string {
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
function formatSet(set: Set<number>): string {
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
function isUnrestricted(text: string): boolean {
  return text === '*' || text === '?'
}

/** Unix 0-7 (0 and 7 = Sunday) -> Quartz 1-7 (1 = Sunday). */
function unixDowToQuartz(items: Item[]): string {
  const days = new Set([...values(items)].map((d) => (d % 7) + 1))
  return days.size === 7 ? '*' : formatSet(days)
}

interface Fields {
  second: string
  minute: string
  hour: string
  dom: string
  month: string
  /** Quartz numbering (1 = Sunday), `?` or `*`. */
  dow: string
}

function quartzFromUnixFields(parts: string[]): Fields {
  const [minute, hour, dom, month, dow] = parts as [string, string, string, string, string]
  if (dom === '?' || dow === '?')
    throw invalid('"?" belongs to Quartz expressions (6 fields); in 5-field cron use "*".')
  const minuteItems = parseField(minute, MINUTE)
  const hourItems = parseField(hour, HOUR)
  const domItems = parseField(dom, DOM)
  const monthItems = parseField(month, MONTH)
  const dowItems = parseField(dow, UNIX_DOW)
  const domFree = isUnrestricted(dom)
  const dowFree = isUnrestricted(dow)
  if (!domFree && !dowFree) {
    throw new AppError(
      'CRON_INVALID',
      `Restrict either the day of the month ("${dom}") or the day of the week ("${dow}"), not both: cron would run when EITHER matches, which Databricks (Quartz) schedules cannot express. Use "*" in one of them, or make two schedules.`,
    )
  }
  return {
    second: '0',
    minute: formatItems(minuteItems),
    hour: formatItems(hourItems),
    dom: domFree ? (dowFree ? '*' : '?') : formatItems(domItems),
    month: formatItems(monthItems),
    dow: dowFree ? '?' : unixDowToQuartz(dowItems),
  }
}

function fieldsFromQuartz(parts: string[]): Fields {
  if (parts.length === 7) {
    if (parts[6] !== '*') {
      throw invalid(
        `The year field "${parts[6]}" is not supported: the preview cannot check years. Drop the 7th field (or use "*").`,
      )
    }
    parts = parts.slice(0, 6)
  }
  const [second, minute, hour, dom, month, dow] = parts as [string, string, string, string, string, string]
  // Day names contain no L or #, only WED has a W: strip names before looking for Quartz-only syntax.
  if (/[LW#]/i.test(dom) || /[LW#]/i.test(dow.replace(/SUN|MON|TUE|WED|THU|FRI|SAT/gi, ''))) {
    throw invalid(
      `The day fields "${dom}" / "${dow}" use L, W or #, which this app does not support in schedules.`,
    )
  }
  if (!/^\d+$/.test(second)) {
    throw invalid(
      `The seconds field "${second}" must be a single number (schedules run at most once a minute).`,
    )
  }
  parseField(second, SECOND)
  const domFree = dom === '?'
  const dowFree = dow === '?'
  if (domFree === dowFree) {
    throw invalid(
      'A Quartz expression needs "?" in exactly one of day-of-month (4th field) and day-of-week (6th field), e.g. "0 0 6 ? * MON-FRI".',
    )
  }
  const dowItems = dowFree ? [] : parseField(dow, QUARTZ_DOW)
  const dowSet = values(dowItems)
  return {
    second: String(Number(second)),
    minute: formatItems(parseField(minute, MINUTE)),
    hour: formatItems(parseField(hour, HOUR)),
    dom: domFree ? '?' : formatItems(parseField(dom, DOM)),
    month: formatItems(parseField(month, MONTH)),
    dow: dowFree ? '?' : dowSet.size === 7 ? '*' : formatSet(dowSet),
  }
}

/** Quartz day-of-week (1 = Sunday) -> cron-parser's numbering (0 = Sunday). */
function cronParserDow(quartzDow: string): string {
  if (quartzDow === '?' || quartzDow === '*') return '*'
  const days = new Set([...values(parseField(quartzDow, QUARTZ_DOW))].map((d) => d - 1))
  return formatSet(days)
}

/** A cron-parser expression (6 fields, seconds first) that fires at exactly the Quartz instants. */
export function cronParserExpressionFromQuartz(quartz: string): string {
  const [second, minute, hour, dom, month, dow] = quartz.split(' ') as [
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  return [second, minute, hour, dom === '?' ? '*' : dom, month, cronParserDow(dow)].join(' ')
}

export function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
  } catch {
    throw new AppError(
      'CONFIG_INVALID',
      `The timezone "${timezone}" is not known. Set JOB_TIMEZONE to a timezone id such as "UTC" or "Europe/Berlin".`,
    )
  }
}

/**
 * Parses what a user typed: a 5-field Unix cron (names, ranges, lists, steps, @macros) or a
 * pasted 6/7-field Quartz expression. Throws AppError CRON_INVALID with what is wrong.
 */
export function parseSchedule(input: string, timezone = 'UTC'): ParsedSchedule {
  assertTimezone(timezone)
  const trimmed = input.trim()
  if (trimmed === '') throw invalid('The schedule is empty.')
  const expanded = MACROS[trimmed.toLowerCase()] ?? trimmed
  if (expanded.startsWith('@'))
    throw invalid(`"${trimmed}" is not a known shortcut (use @hourly, @daily, @weekly, @monthly or @yearly).`)
  const parts = expanded.split(/\s+/)
  let fields: Fields
  if (parts.length === 5) fields = quartzFromUnixFields(parts)
  else if (parts.length === 6 || parts.length === 7) fields = fieldsFromQuartz(parts)
  else {
    throw invalid(
      `A schedule has 5 fields (minute hour day-of-month month day-of-week); "${trimmed}" has ${parts.length}.`,
    )
  }
  const quartz = [fields.second, fields.minute, fields.hour, fields.dom, fields.month, fields.dow].join(' ')
  const previewExpression = cronParserExpressionFromQuartz(quartz)
  const nextRuns = (n: number, from: Date = new Date()): Date[] => {
    const it = CronExpressionParser.parse(previewExpression, { currentDate: from, tz: timezone })
    return it.take(n).map((d) => d.toDate())
  }
  try {
    if (nextRuns(1).length !== 1) throw new Error('no run')
  } catch {
    throw invalid(`"${trimmed}" never fires (no month has that day).`)
  }
  const unix =
    fields.second === '0'
      ? [
          fields.minute,
          fields.hour,
          fields.dom === '?' ? '*' : fields.dom,
          fields.month,
          cronParserDow(fields.dow),
        ].join(' ')
      : undefined
  const text = cronstrue.toString(quartz, { dayOfWeekStartIndexZero: false, use24HourTimeFormat: true })
  return { quartz, unix, description: `${text} (${timezone})`, timezone, nextRuns }
}
