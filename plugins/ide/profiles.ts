// The IDE's profile picker: for every provider the editor text references, a select of its profiles
// (default unless another is picked). The page re-renders it as the text changes (debounced htmx
// POST of the run form); a run sends the picks as `profile=aws/prod` fields.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { isAppError } from '../../src/errors.js'
import { acrossRefs } from '../../src/fanout/across.js'
import { DEFAULT_PROFILE, parseProfileRef } from '../../src/profiles/names.js'
import { pickerProviders } from '../../src/profiles/referenced.js'

/** `profile` form fields: one `provider/profile` per select (a string, or several). */
export const ProfileField = Type.Optional(
  Type.Union([
    Type.String({ maxLength: 200 }),
    Type.Array(Type.String({ maxLength: 200 }), { maxItems: 50 }),
  ]),
)

/** The picks of a run form as provider -> profile; throws VALIDATION for a malformed pick. */
export function pickedProfiles(field: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const ref of field === undefined ? [] : Array.isArray(field) ? field : [field]) {
    if (ref === '') continue
    const { provider, profile } = parseProfileRef(ref)
    out[provider] = profile
  }
  return out
}

const PickerBody = Type.Object({
  query_text: Type.Optional(Type.String({ maxLength: 100_000 })),
  profile: ProfileField,
  /** The Run across checkboxes (kept ticked when the picker re-renders). */
  across: ProfileField,
})

const picker: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/profiles/picker', { schema: { body: PickerBody } }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const { providers, error } = pickerProviders(req.body.query_text ?? '')
    let picked: Record<string, string> = {}
    try {
      picked = pickedProfiles(req.body.profile)
    } catch {
      // A stale or hand-made pick falls back to default.
    }
    let known: Awaited<ReturnType<typeof app.db.getProviderProfiles>> = []
    let loadError: string | undefined
    try {
      known = await app.db.getProviderProfiles()
    } catch (e) {
      if (!isAppError(e)) throw e
      loadError = `Profiles could not be loaded: ${e.message}`
    }
    const ticked = new Set(acrossRefs(req.body.across).map((s) => `${s.provider}/${s.profile}`))
    const rows = providers.map((provider) => {
      const names = known.find((k) => k.provider === provider)?.profiles.map((p) => p.profile) ?? []
      const all = names.includes(DEFAULT_PROFILE) ? names : [DEFAULT_PROFILE, ...names]
      // Profile permissions (src/access): only the profiles this user may use are offered.
      const profiles = all.filter((name) => req.access.profiles.may(provider, name))
      const fallback = profiles.includes(DEFAULT_PROFILE) ? DEFAULT_PROFILE : (profiles[0] ?? '')
      const selected = profiles.includes(picked[provider] ?? '') ? picked[provider]! : fallback
      // Run across offers the profiles that exist (mappings or variables) and this user may use.
      const acrossProfiles = names.filter((name) => req.access.profiles.may(provider, name))
      const across = acrossProfiles.filter((p) => ticked.has(`${provider}/${p}`))
      return { provider, profiles, selected, acrossProfiles, across }
    })
    return reply.render('ide/_profiles', {
      picker: {
        rows,
        error: loadError ?? (error ? 'The providers of this text cannot be read yet.' : undefined),
      },
    })
  })
}

export default picker
