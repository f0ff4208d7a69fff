import { CronExpressionParser } from 'cron-parser'
import t from 'tap'
import { cronParserExpressionFromQuartz, parseSchedule } from '../src/databricks/quartz.js'
import { AppError } from '../src/errors.js'

const FIELDS = ['seconds', 'minutes', 'hours', 'day-of-month', 'month', 'day-of-week']

/**
 * [Unix input, expected Quartz, oracle] — the oracle is the Unix expression cron-parser reads
 * for the expected fire times (only given where cron-parser cannot read the input itself:
 * macros, SAT-SUN style ranges ending on Sunday, and 0,7 which it calls a duplicate).
 */
const UNIX_TABLE: [string, string, string?][] = [
  ['* * * * *', '0 * * * * ?'],
  ['0 * * * *', '0 0 * * * ?'],
  ['*/5 * * * *', '0 */5 * * * ?'],
  ['*/15 * * * *', '0 */15 * * * ?'],
  ['*/1 * * * *', '0 * * * * ?'],
  ['5/15 * * * *', '0 5/15 * * * ?'],
  ['0-30/10 * * * *', '0 0-30/10 * * * ?'],
  ['10-20 * * * *', '0 10-20 * * * ?'],
  ['0,30 * * * *', '0 0,30 * * * ?'],
  ['59 23 * * *', '0 59 23 * * ?'],
  ['0 */2 * * *', '0 0 */2 * * ?'],
  ['0 */6 * * *', '0 0 */6 * * ?'],
  ['0 8-18/2 * * *', '0 0 8-18/2 * * ?'],
  ['0 0,12 * * *', '0 0 0,12 * * ?'],
  ['0 0 * * *', '0 0 0 * * ?'],
  ['30 2 * * *', '0 30 2 * * ?'],
  ['0 0 */2 * *', '0 0 0 */2 * ?'],
  ['0 0 */10 * *', '0 0 0 */10 * ?'],
  ['0 0 1 * *', '0 0 0 1 * ?'],
  ['0 0 1,15 * *', '0 0 0 1,15 * ?'],
  ['0 0 1-7 * *', '0 0 0 1-7 * ?'],
  ['0 0 31 * *', '0 0 0 31 * ?'],
  ['0 0 29 2 *', '0 0 0 29 2 ?'],
  ['0 0 1 */3 *', '0 0 0 1 */3 ?'],
  ['0 0 1 */2 *', '0 0 0 1 */2 ?'],
  ['0 0 1 1-12/3 *', '0 0 0 1 1-12/3 ?'],
  ['0 0 1 JAN *', '0 0 0 1 1 ?'],
  ['0 0 1 jan,jul *', '0 0 0 1 1,7 ?'],
  ['0 0 1 JAN-MAR *', '0 0 0 1 1-3 ?'],
  ['0 0 * DEC *', '0 0 0 * 12 ?'],
  ['0 0 15 Feb-Apr *', '0 0 0 15 2-4 ?'],
  ['0 0 * JUN-AUG 1', '0 0 0 ? 6-8 2'],
  ['0 0 * * 0', '0 0 0 ? * 1'],
  ['0 0 * * 7', '0 0 0 ? * 1'],
  ['0 0 * * 0,7', '0 0 0 ? * 1', '0 0 * * 0'],
  ['0 0 * * SUN', '0 0 0 ? * 1'],
  ['0 0 * * sun,wed', '0 0 0 ? * 1,4'],
  ['30 6 * * 1-5', '0 30 6 ? * 2-6'],
  ['0 9 * * MON-FRI', '0 0 9 ? * 2-6'],
  ['0 9 * * mon-fri', '0 0 9 ? * 2-6'],
  ['15 10 * * 6', '0 15 10 ? * 7'],
  ['0 0 * * 5-7', '0 0 0 ? * 1,6-7'],
  ['0 0 * * 6-7', '0 0 0 ? * 1,7'],
  ['0 0 * * 6,0', '0 0 0 ? * 1,7'],
  ['0 0 * * SAT-SUN', '0 0 0 ? * 1,7', '0 0 * * 6,0'],
  ['0 0 * * SAT,SUN', '0 0 0 ? * 1,7'],
  ['0 0 * * FRI-SUN', '0 0 0 ? * 1,6-7', '0 0 * * 5-7'],
  ['0 0 * * THU-SAT', '0 0 0 ? * 5-7'],
  ['0 0 * * 0-6', '0 0 0 ? * *'],
  ['0 0 * * 1-7', '0 0 0 ? * *'],
  ['0 0 * * */1', '0 0 0 ? * *'],
  ['0 0 * * */2', '0 0 0 ? * 1,3,5,7'],
  ['0 0 * * */3', '0 0 0 ? * 1,4,7'],
  ['0 0 * * */7', '0 0 0 ? * 1'],
  ['0 0 * * 1-5/2', '0 0 0 ? * 2,4,6'],
  ['0 0 * * 0-4/2', '0 0 0 ? * 1,3,5'],
  ['0 0 * * 1/2', '0 0 0 ? * 1-2,4,6'],
  ['0 12 * * 1,3,5', '0 0 12 ? * 2,4,6'],
  ['0 12 * * 2-4,6', '0 0 12 ? * 3-5,7'],
  ['0 8-18 * * 1-5', '0 0 8-18 ? * 2-6'],
  ['*/10 9-17 * * MON-FRI', '0 */10 9-17 ? * 2-6'],
  ['0 22 * * 0', '0 0 22 ? * 1'],
  ['0 0 * * 3', '0 0 0 ? * 4'],
  ['  0   6 *  * 1  ', '0 0 6 ? * 2', '0 6 * * 1'],
  ['@hourly', '0 0 * * * ?', '0 * * * *'],
  ['@daily', '0 0 0 * * ?', '0 0 * * *'],
  ['@midnight', '0 0 0 * * ?', '0 0 * * *'],
  ['@weekly', '0 0 0 ? * 1', '0 0 * * 0'],
  ['@monthly', '0 0 0 1 * ?', '0 0 1 * *'],
  ['@yearly', '0 0 0 1 1 ?', '0 0 1 1 *'],
  ['@ANNUALLY', '0 0 0 1 1 ?', '0 0 1 1 *'],
]

const FROM = [new Date('2025-03-01T00:00:00Z'), new Date('2027-10-30T13:37:00Z')]
const TIMEZONES = ['UTC', 'America/New_York', 'Europe/Berlin']

function oracleRuns(unix: string, from: Date, tz: string): string[] {
  return CronExpressionParser.parse(unix, { currentDate: from, tz })
    .take(10)
    .map((d) => d.toDate().toISOString())
}

t.test(`${UNIX_TABLE.length} Unix expressions become the exact Quartz expression`, async (t) => {
  t.ok(UNIX_TABLE.length >= 60)
  for (const [unix, quartz] of UNIX_TABLE) {
    const got = parseSchedule(unix).quartz.split(' ')
    const want = quartz.split(' ')
    t.equal(got.length, 6, `${unix}: 6 fields`)
    for (const [i, w] of want.entries()) t.equal(got[i], w, `${unix}: ${FIELDS[i]}`)
  }
})

t.test('the next 10 runs shown to the user are the Unix expression’s own next 10 runs', async (t) => {
  for (const [unix, , oracle] of UNIX_TABLE) {
    for (const tz of TIMEZONES) {
      const parsed = parseSchedule(unix, tz)
      for (const from of FROM) {
        const shown = parsed.nextRuns(10, from).map((d) => d.toISOString())
        t.same(shown, oracleRuns(oracle ?? unix, from, tz), `${unix} in ${tz} from ${from.toISOString()}`)
      }
    }
  }
})

t.test('the preview is computed from the Quartz expression, not from the input', async (t) => {
  // Quartz 1 = Sunday; read naively as Unix it would be Monday.
  t.equal(cronParserExpressionFromQuartz('0 0 0 ? * 1'), '0 0 0 * * 0')
  t.equal(cronParserExpressionFromQuartz('0 0 6 ? * 2-6'), '0 0 6 * * 1-5')
  t.equal(cronParserExpressionFromQuartz('0 0 0 ? * 1,6-7'), '0 0 0 * * 0,5-6')
  t.equal(cronParserExpressionFromQuartz('0 0 0 1 * ?'), '0 0 0 1 * *')
  const sunday = parseSchedule('0 0 * * 0').nextRuns(3, FROM[0])
  t.ok(sunday.every((d) => d.getUTCDay() === 0))
})

t.test('descriptions name the days the Quartz expression fires on, and the timezone', async (t) => {
  t.match(parseSchedule('0 6 * * 1-5').description, /06:00.*Monday through Friday \(UTC\)/)
  t.match(parseSchedule('0 0 * * 0').description, /only on Sunday/)
  t.match(parseSchedule('0 0 * * 7').description, /only on Sunday/)
  t.match(parseSchedule('0 0 * * 5-7').description, /Sunday.*Friday through Saturday/)
  t.match(parseSchedule('0 0 * * SAT-SUN').description, /Sunday and Saturday/)
  t.match(parseSchedule('*/15 * * * *', 'Europe/Berlin').description, /Every 15 minutes \(Europe\/Berlin\)/)
  t.match(parseSchedule('0 0 1 JAN-MAR *').description, /January through March/)
})

t.test('the Unix form of the schedule is given with numbers only', async (t) => {
  t.equal(parseSchedule('0 9 * * MON-FRI').unix, '0 9 * * 1-5')
  t.equal(parseSchedule('0 0 * * SAT-SUN').unix, '0 0 * * 0,6')
  t.equal(parseSchedule('@weekly').unix, '0 0 * * 0')
})

/** [pasted Quartz, expected Quartz, Unix oracle for the fire times (5 or 6 fields)]. */
const QUARTZ_TABLE: [string, string, string][] = [
  ['0 0 6 ? * MON-FRI', '0 0 6 ? * 2-6', '0 6 * * 1-5'],
  ['0 30 9 * * ?', '0 30 9 * * ?', '30 9 * * *'],
  ['0 0 12 ? * SUN', '0 0 12 ? * 1', '0 12 * * 0'],
  ['0 0 12 ? * 1,7', '0 0 12 ? * 1,7', '0 12 * * 0,6'],
  ['0 0 12 ? * 7', '0 0 12 ? * 7', '0 12 * * 6'],
  ['0 0 0 1 1-3 ?', '0 0 0 1 1-3 ?', '0 0 1 1-3 *'],
  ['0 0 6 ? * 2-6 *', '0 0 6 ? * 2-6', '0 6 * * 1-5'],
  ['15 0 6 ? * 2', '15 0 6 ? * 2', '15 0 6 * * 1'],
  ['0 0/15 * * * ?', '0 0/15 * * * ?', '*/15 * * * *'],
  ['0 0 6 ? * */2', '0 0 6 ? * 1,3,5,7', '0 6 * * 0,2,4,6'],
  ['0 0 6 ? JAN,JUL wed', '0 0 6 ? 1,7 4', '0 6 * 1,7 3'],
]

t.test('a pasted Quartz expression is accepted and previewed with Quartz day numbers', async (t) => {
  for (const [input, quartz, oracle] of QUARTZ_TABLE) {
    const parsed = parseSchedule(input, 'UTC')
    t.equal(parsed.quartz, quartz, input)
    for (const from of FROM) {
      t.same(
        parsed.nextRuns(10, from).map((d) => d.toISOString()),
        oracleRuns(oracle, from, 'UTC'),
        `${input} from ${from.toISOString()}`,
      )
    }
  }
  t.equal(parseSchedule('15 0 6 ? * 2').unix, undefined, 'no 5-field form when seconds are not 0')
})

const INVALID: [string, RegExp][] = [
  ['0 0 1 * 1', /not both/],
  ['0 0 */2 * 1', /not both/],
  ['0 0 */1 * 1', /not both/],
  ['0 0 1-15 * MON', /not both/],
  ['', /empty/],
  ['   ', /empty/],
  ['* * * *', /5 fields .*has 4/],
  ['* * * * * * * *', /has 8/],
  ['60 * * * *', /minute value 60 is out of range \(0-59\)/],
  ['0 24 * * *', /hour value 24 is out of range \(0-23\)/],
  ['0 0 0 * *', /day-of-month value 0 is out of range \(1-31\)/],
  ['0 0 32 * *', /day-of-month value 32/],
  ['0 0 * 13 *', /month value 13 is out of range \(1-12, or JAN-DEC\)/],
  ['0 0 * * 8', /day-of-week value 8 is out of range \(0-7, or SUN-SAT\)/],
  ['0 0 * FOO *', /"FOO" is not a valid month value/],
  ['0 0 * * MONDAY', /"MONDAY" is not a valid day-of-week value/],
  ['a b c d e', /"a" is not a valid minute value/],
  ['*/0 * * * *', /step "\/0".*at least 1/],
  ['*/x * * * *', /step "\/x"/],
  ['*/61 * * * *', /step \/61 .*larger than 59/],
  ['0 */25 * * *', /larger than 23/],
  ['30-10 * * * *', /goes backwards/],
  ['1-2-3 * * * *', /not a valid value or range/],
  ['0,,5 * * * *', /"" in the minute field/],
  ['0 0 * * ?', /"\?" belongs to Quartz/],
  ['0 0 30 2 *', /never fires/],
  ['0 0 31 4 *', /never fires/],
  ['0 0 6 * * MON', /exactly one of day-of-month/],
  ['0 0 6 ? * ?', /exactly one of day-of-month/],
  ['*/5 0 6 ? * MON', /seconds field "\*\/5" must be a single number/],
  ['0 0 6 L * ?', /L, W or #/],
  ['0 0 6 15W * ?', /L, W or #/],
  ['0 0 6 ? * 6#3', /L, W or #/],
  ['0 0 6 ? * 6L', /L, W or #/],
  ['0 0 6 ? * 0', /day-of-week value 0 is out of range \(1-7/],
  ['0 0 6 ? * 1 2026', /year field "2026" is not supported/],
  ['@every5m', /not a known shortcut/],
]

t.test('malformed or inexpressible schedules are refused with a message saying what is wrong', async (t) => {
  for (const [input, message] of INVALID) {
    let error: unknown
    try {
      parseSchedule(input)
    } catch (e) {
      error = e
    }
    t.ok(error instanceof AppError, `${JSON.stringify(input)} is refused`)
    const e = error as AppError
    t.equal(e.code, 'CRON_INVALID', input)
    t.equal(e.status, 400)
    t.match(e.message, message, input)
    if (!/not both/.test(e.message))
      t.match(e.message, /Example: "0 6 \* \* 1-5"/, `${input}: gives an example`)
  }
})

t.test('an unknown timezone is a configuration error naming JOB_TIMEZONE', async (t) => {
  t.throws(() => parseSchedule('0 0 * * *', 'Mars/Olympus_Mons'), {
    code: 'CONFIG_INVALID',
    message: /JOB_TIMEZONE/,
  })
})

t.test('next runs default to the future from now', async (t) => {
  const before = Date.now()
  const runs = parseSchedule('* * * * *').nextRuns(5)
  t.equal(runs.length, 5)
  t.ok(runs[0]!.getTime() > before)
  t.ok(runs.every((d, i) => i === 0 || d > runs[i - 1]!))
})
