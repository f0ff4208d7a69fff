// Cron for people: users type 5-field Unix cron (or paste a Quartz expression); Databricks Jobs
// need Quartz. The preview (text and next run times) is computed FROM the Quartz we produce.
import { CronExpressionParser } from 'cron-parser'
import cronstrue from 'cronstrue'
import { AppError } from '../errors.js'
import {
  DOM,
  formatItems,
  formatSet,
  HOUR,
  invalid,
  isUnrestricted,
  MINUTE,
  MONTH,
  parseField,
  QUARTZ_DOW,
  SECOND,
  UNIX_DOW,
  unixDowToQuartz,
  values,
} from './cron-fields.js'

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

const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
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

// Timezones already checked (constructing a formatter to check one is the costly part).
const knownTimezones = new Set<string>()

export function assertTimezone(timezone: string): void {
  if (knownTimezones.has(timezone)) return
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone })
  } catch {
    throw new AppError(
      'CONFIG_INVALID',
      `The timezone "${timezone}" is not known. Set JOB_TIMEZONE to a timezone id such as "UTC" or "Europe/Berlin".`,
    )
  }
  if (knownTimezones.size < 64) knownTimezones.add(timezone)
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
