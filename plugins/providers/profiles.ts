// Profile routes of the Providers page: set and delete a profile's variables, and Test a whole
// profile (all its mappings resolved into ONE StackQL child running SHOW PROVIDERS).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError } from '../../src/errors.js'
import { IdParams, PROVIDER_PATTERN } from '../../src/models.js'
import { assertProfileName, assertVariableName } from '../../src/profiles/names.js'
import { assertVariableValue } from '../../src/profiles/variables.js'
import type { pageModel, SyncNote } from './view-model.js'
import { profileKey } from './view-model.js'

export interface ProfileRoutesOptions {
  render: (highlight?: number, sync?: SyncNote) => Promise<ReturnType<typeof pageModel>>
}

const VariableBody = Type.Object({
  provider: Type.String({ maxLength: 100 }),
  profile: Type.Optional(Type.String({ maxLength: 100 })),
  name: Type.String({ maxLength: 200 }),
  value: Type.String({ maxLength: 10_000 }),
})

const ProfileBody = Type.Object({
  provider: Type.String({ maxLength: 100 }),
  profile: Type.String({ maxLength: 100 }),
})

const PROVIDER = new RegExp(PROVIDER_PATTERN)

function assertProvider(provider: string): string {
  if (!PROVIDER.test(provider))
    throw new AppError('VALIDATION', `"${provider.slice(0, 70)}" is not a provider name.`)
  return provider
}

const profiles: FastifyPluginAsyncTypebox<ProfileRoutesOptions> = async (app, { render }) => {
  app.post('/variables', { schema: { body: VariableBody } }, async (req, reply) => {
    const provider = assertProvider(req.body.provider.trim().toLowerCase())
    const profile = assertProfileName(req.body.profile?.trim() || 'default')
    const name = assertVariableName(req.body.name.trim())
    const value = req.body.value.trim()
    assertVariableValue(name, value)
    const saved = await app.db.setProfileVariable({ provider, profile, name, value }, req.user)
    req.log.info({ provider, profile, variable: name, id: saved.id }, 'profile variable set')
    return reply.render('providers/_mappings', await render())
  })

  app.delete('/variables/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const v = await app.db.getProfileVariableById(req.params.id)
    if (!v)
      throw new AppError(
        'NOT_FOUND',
        `Profile variable ${req.params.id} does not exist (it may have been deleted).`,
      )
    await app.db.deleteProfileVariable(v.id)
    req.log.info({ id: v.id, provider: v.provider, profile: v.profile }, 'profile variable deleted')
    return reply.render('providers/_mappings', await render())
  })

  app.post('/profiles/test', { schema: { body: ProfileBody } }, async (req, reply) => {
    const provider = assertProvider(req.body.provider)
    const profile = assertProfileName(req.body.profile)
    const result = await app.queries.testProfile(provider, profile)
    return reply.render('providers/_profile-test', {
      key: profileKey(provider, profile),
      ok: result.ok,
      message: result.message,
    })
  })
}

export default profiles
