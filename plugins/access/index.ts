// Profile permissions (admins): restrict a provider's profile to some e-mails and `group:<name>`
// entries. Who may use a profile is checked in plugins/web/access.ts; this page only edits the list.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ProfilePermissionStore } from '../../src/db/audit.js'
import { AppError } from '../../src/errors.js'
import { PROVIDER_PATTERN } from '../../src/models.js'

const Body = Type.Object({
  provider: Type.String({ maxLength: 100 }),
  profile: Type.Optional(Type.String({ maxLength: 100 })),
  principal: Type.String({ maxLength: 400 }),
})
const PROVIDER = new RegExp(PROVIDER_PATTERN)
const PROFILE = /^[A-Za-z0-9_-]{1,63}$/
const EMAIL = /^[^\s@<>"',]{1,200}@[^\s@<>"',]{1,200}$/

function checked(body: { provider: string; profile?: string; principal: string }) {
  const provider = body.provider.trim().toLowerCase()
  const profile = (body.profile ?? '').trim() || 'default'
  const principal = body.principal.trim()
  if (!PROVIDER.test(provider)) throw new AppError('VALIDATION', `"${body.provider}" is not a provider name.`)
  if (!PROFILE.test(profile)) {
    throw new AppError(
      'VALIDATION',
      `"${profile}" is not a profile name (letters, digits, _ and -, 63 at most).`,
    )
  }
  const group = /^group:(.{1,200})$/i.exec(principal)
  if (!(group && !group[1]!.includes(',')) && !EMAIL.test(principal)) {
    throw new AppError('VALIDATION', `"${principal}" is neither an e-mail nor group:<name>.`)
  }
  return { provider, profile, principal: group ? `group:${group[1]!.trim()}` : principal.toLowerCase() }
}

const access: FastifyPluginAsyncTypebox = async (app) => {
  const store = new ProfilePermissionStore(app.db)
  app.navigation.push({ href: '/access/profiles', label: 'Access', role: 'admin' })

  const data = async (extra: Record<string, unknown> = {}) => ({
    permissions: await store.list(),
    providers: await app.db.getProviders(),
    ...extra,
  })

  app.get('/profiles', async (req, reply) =>
    reply.render(req.isPartial ? 'access/_profiles' : 'access/profiles', await data(), { title: 'Access' }),
  )

  app.post('/profiles', { schema: { body: Body } }, async (req, reply) => {
    const p = checked(req.body)
    await store.add(p.provider, p.profile, p.principal, req.user)
    return reply.render('access/_profiles', await data({ added: p }))
  })

  app.post('/profiles/remove', { schema: { body: Body } }, async (req, reply) => {
    const p = checked(req.body)
    if (!(await store.remove(p.provider, p.profile, p.principal))) {
      throw new AppError(
        'NOT_FOUND',
        `${p.principal} is not on the list of ${p.provider} profile ${p.profile}.`,
      )
    }
    return reply.render('access/_profiles', await data())
  })
}

export default access
