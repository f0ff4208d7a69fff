// The Schedules forms and queries as the routes validate them, and the form's profiles as slice specs.
import { Type } from 'typebox'
import { parseSliceSpecs } from '../../src/fanout/slices.js'
import { ScheduleInput } from '../../src/models.js'

export const RowQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  until: Type.Optional(Type.Integer({ minimum: 0 })),
})
export const StarterQuery = Type.Object({ starter: Type.Optional(Type.String({ maxLength: 200 })) })
export const PreviewQuery = Type.Object({
  cron_expression: Type.String({ maxLength: 200, default: '' }),
  for: Type.Union([Type.Literal('new'), Type.Literal('edit')], { default: 'new' }),
})
/** The shrink guard as a form field: empty = off, else 1–100 (parsed by parseShrinkGuard for a clear message). */
const ShrinkGuardField = Type.Optional(Type.String({ maxLength: 20 }))
/** Fan-out profiles from the form's multi-select: one value is a string, several an array. */
const ProfilesField = Type.Optional(
  Type.Union([
    Type.String({ maxLength: 200 }),
    Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 }),
  ]),
)
/** Key columns as a form field: comma-separated result columns (parsed by parseKeyColumns). */
const KeyColumnsField = Type.Optional(Type.String({ maxLength: 2200 }))
export const NewScheduleBody = Type.Object({
  ...ScheduleInput.properties,
  shrink_guard_pct: ShrinkGuardField,
  profiles: ProfilesField,
  key_columns: KeyColumnsField,
})
export const CronBody = Type.Object({
  cron_expression: ScheduleInput.properties.cron_expression,
  shrink_guard_pct: ShrinkGuardField,
  key_columns: KeyColumnsField,
  profiles: ProfilesField,
  /** Present when the Edit dialog showed the profiles field: no `profiles` then means "none". */
  profiles_field: Type.Optional(Type.String({ maxLength: 1 })),
})

/** The form's profiles as slice specs (checked by the schedule service); none = the default profile. */
export function formProfiles(v: string | string[] | undefined): string[] | undefined {
  const list = (Array.isArray(v) ? v : v ? [v] : []).flatMap((x) => x.split(',')).map((x) => x.trim())
  const specs = parseSliceSpecs(list.filter(Boolean)).map((x) => `${x.provider}/${x.profile}`)
  return specs.length ? specs : undefined
}
