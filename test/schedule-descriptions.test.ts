// Schedule descriptions are kept per expression and reused while their first next run is ahead:
// what they give must always equal a fresh parse at that moment.
import t from 'tap'
import { parseSchedule } from '../src/databricks/quartz.js'
import { ScheduleDescriptions } from '../src/services/schedule-descriptions.js'

const fresh = (cron: string, tz: string, at: number) => parseSchedule(cron, tz).nextRuns(5, new Date(at))

t.test('a kept description equals a fresh one at every moment, across its first next run', async (t) => {
  let clock = Date.parse('2025-03-30T00:10:00Z')
  const descriptions = new ScheduleDescriptions('Europe/Berlin', () => clock)
  // Not '30 2 * * *': 02:30 does not exist in Berlin that day, and cron-parser itself answers by
  // the moment asked (from 00:10 UTC it gives 01:30 UTC, from 01:06 UTC the next day's 00:30).
  const crons = ['*/15 * * * *', '0 6 * * 1-5', '30 3 * * *', '0 0 1 * *']
  // Steps of 7 minutes over a day: past many first runs, and past Berlin's DST change at 01:00 UTC.
  for (let i = 0; i < 200; i++) {
    for (const cron of crons) {
      const got = descriptions.describe(cron).nextRuns.map((d) => d.toISOString())
      const want = fresh(cron, 'Europe/Berlin', clock).map((d) => d.toISOString())
      if (got.join() !== want.join()) {
        t.fail(`${cron} at ${new Date(clock).toISOString()}: ${got} != ${want}`)
        return
      }
    }
    clock += 7 * 60_000
  }
  t.pass('200 moments x 4 expressions: the same runs as a fresh parse')
  const d = descriptions.describe('0 6 * * 1-5')
  t.equal(d.quartz, '0 0 6 ? * 2-6')
  t.match(d.description, /06:00.*Monday through Friday.*Europe\/Berlin/)
})

t.test('the runs given out are copies; an explicit moment is computed, never kept', async (t) => {
  const clock = Date.parse('2025-01-03T12:00:00Z')
  const descriptions = new ScheduleDescriptions('UTC', () => clock)
  const first = descriptions.describe('0 6 * * *')
  first.nextRuns[0]!.setTime(0)
  first.nextRuns.length = 1
  const again = descriptions.describe('0 6 * * *')
  t.equal(again.nextRuns.length, 5, 'changing what was given does not change the next answer')
  t.equal(again.nextRuns[0]!.toISOString(), '2025-01-04T06:00:00.000Z')
  const earlier = descriptions.describe('0 6 * * *', new Date('2024-06-01T00:00:00Z'))
  t.equal(earlier.nextRuns[0]!.toISOString(), '2024-06-01T06:00:00.000Z', 'from an explicit moment')
  t.equal(descriptions.describe('0 6 * * *').nextRuns[0]!.toISOString(), '2025-01-04T06:00:00.000Z')
})

t.test('an invalid expression throws every time and is not kept', async (t) => {
  const descriptions = new ScheduleDescriptions('UTC')
  t.throws(() => descriptions.describe('0 6 * *'), { code: 'CRON_INVALID' })
  t.throws(() => descriptions.describe('0 6 * *'), { code: 'CRON_INVALID' })
  t.throws(() => new ScheduleDescriptions('Mars/Olympus').describe('0 6 * * *'), { code: 'CONFIG_INVALID' })
})
