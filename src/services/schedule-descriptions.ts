// Schedule descriptions for the pages: the Quartz expression, its text and the next 5 run times.
// Parsing a cron and stepping through its fire times (cron-parser, luxon) cost ~0.6 ms a schedule,
// and the Schedules page and its row polls describe every schedule on every read. A description is
// kept per expression and reused while its first next run is still ahead: the runs strictly after
// any earlier moment than that are the same runs.
import { type ParsedSchedule, parseSchedule } from '../databricks/quartz.js'

export interface ScheduleDescription {
  quartz: string
  description: string
  nextRuns: Date[]
}

const NEXT_RUNS = 5
/** Expressions kept; past this the cache starts again (a deployment has far fewer schedules). */
const MAX_ENTRIES = 1_000

interface Entry {
  parsed: ParsedSchedule
  nextRuns: Date[]
}

export class ScheduleDescriptions {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly timezone: string,
    /** The clock (tests move it). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws AppError CRON_INVALID as parseSchedule does (an invalid expression is never kept). */
  describe(cron: string, from?: Date): ScheduleDescription {
    if (from) {
      const parsed = parseSchedule(cron, this.timezone)
      return {
        quartz: parsed.quartz,
        description: parsed.description,
        nextRuns: parsed.nextRuns(NEXT_RUNS, from),
      }
    }
    const now = this.now()
    let entry = this.entries.get(cron)
    if (!entry) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
      const parsed = parseSchedule(cron, this.timezone)
      entry = { parsed, nextRuns: parsed.nextRuns(NEXT_RUNS, new Date(now)) }
      this.entries.set(cron, entry)
    } else if ((entry.nextRuns[0]?.getTime() ?? 0) <= now) {
      entry.nextRuns = entry.parsed.nextRuns(NEXT_RUNS, new Date(now))
    }
    const { quartz, description } = entry.parsed
    // Copies: a caller may keep or change what it got.
    return { quartz, description, nextRuns: entry.nextRuns.map((d) => new Date(d)) }
  }
}
