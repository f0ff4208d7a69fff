// "Starter queries" in the IDE: browse the curated library by provider, preview a statement, add one
// or all of a provider's queries to the saved library (idempotent; a changed query is kept).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError } from '../../src/errors.js'
import { type AddOutcome, addStarters, savedFor } from '../../src/starter/add.js'
import { loadStarterLibrary, type StarterQuery } from '../../src/starter/library.js'

const GroupQuery = Type.Object({ group: Type.Optional(Type.String({ maxLength: 40 })) })
const AddBody = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 200 })),
  group: Type.Optional(Type.String({ maxLength: 40 })),
})

const starter: FastifyPluginAsyncTypebox = async (app) => {
  // The files ship with the app: read once at start (a broken file fails the start, not a request).
  const library = loadStarterLibrary()
  if (!app.navigation.some((n) => n.href === '/starter')) {
    app.navigation.splice(1, 0, { href: '/starter', label: 'Starter queries' })
  }
  const groups = [...new Set(library.map((q) => q.group))]

  const pageData = async (group: string, outcome?: AddOutcome) => {
    const saved = await app.db.getQueries()
    const state = (q: StarterQuery) => {
      const s = savedFor(q, saved)
      if (!s) return 'new'
      return s.query_text.trim() === q.statement.trim() ? 'added' : 'changed'
    }
    const queries = library.filter((q) => q.group === group).map((q) => ({ ...q, state: state(q) }))
    return { groups, group, queries, outcome }
  }
  const groupOf = (g: string | undefined) => {
    const group = g ?? groups[0] ?? ''
    if (!groups.includes(group)) {
      throw new AppError('VALIDATION', `"${group}" is not a starter provider (${groups.join(', ')}).`)
    }
    return group
  }

  app.get('/starter', { schema: { querystring: GroupQuery } }, async (req, reply) =>
    reply.render('ide/_starter', await pageData(groupOf(req.query.group)), { title: 'Starter queries' }),
  )

  app.post('/starter/add', { schema: { body: AddBody } }, async (req, reply) => {
    const { id, group } = req.body
    let chosen: StarterQuery[]
    if (id) {
      const q = library.find((s) => s.id === id)
      if (!q) throw new AppError('VALIDATION', `There is no starter query "${id}".`)
      chosen = [q]
    } else {
      chosen = library.filter((q) => q.group === groupOf(group))
    }
    const outcome = await addStarters(app.db, chosen, req.user)
    return reply.render('ide/_starter', await pageData(chosen[0]?.group ?? groupOf(group), outcome))
  })
}

export default starter
