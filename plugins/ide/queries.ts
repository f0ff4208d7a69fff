// The saved-query library in the IDE's sidebar: list, save (from the Save Query dialog) and delete.
// Every change answers with the refreshed sidebar; failures answer with a message the page shows
// where the action was taken (inside the dialog, or above the list).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { AppError, isAppError } from '../../src/errors.js'
import { IdParams, type Query, type QueryInput } from '../../src/models.js'
import { savedQueryProvider } from '../../src/profiles/referenced.js'

const SaveBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 10_000 })),
  description: Type.Optional(Type.String({ maxLength: 100_000 })),
  query_text: Type.Optional(Type.String({ maxLength: 200_000 })),
  provider: Type.Optional(Type.String({ maxLength: 1000 })),
})

/** Checks the dialog's fields with messages that say what to fix. */
export function checkSaveInput(body: {
  name?: string
  description?: string
  query_text?: string
  provider?: string
}): QueryInput {
  const name = (body.name ?? '').trim()
  const description = (body.description ?? '').trim()
  const queryText = body.query_text ?? ''
  const fail = (message: string) => new AppError('VALIDATION', message)
  if (name === '') throw fail('Give the query a name.')
  if (name.length > 200) throw fail(`The name is too long (${name.length} characters, 200 at most).`)
  if (description.length > 2000) {
    throw fail(`The description is too long (${description.length} characters, 2,000 at most).`)
  }
  if (queryText.trim() === '') throw fail('The editor is empty: write the query before saving it.')
  if (queryText.length > 100_000) throw fail('The query is too long to save (100,000 characters at most).')
  // The provider column is derived from the text (the first provider it names, or ''), for compatibility.
  const provider = savedQueryProvider(queryText)
  return { name, description, query_text: queryText, provider }
}

export type SidebarData = {
  queries: Query[]
  loadError?: string
  highlight?: number
}

/** The sidebar's data; a database failure becomes a message in the sidebar, not a broken page. */
export async function sidebarData(app: FastifyInstance, highlight?: number): Promise<SidebarData> {
  try {
    return { queries: await app.db.getQueries(), highlight }
  } catch (e) {
    if (!isAppError(e)) throw e
    return { queries: [], loadError: `Saved queries could not be loaded: ${e.message}` }
  }
}

const queries: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/queries', async (_req, reply) => reply.render('ide/_sidebar', await sidebarData(app)))

  app.post('/queries', { schema: { body: SaveBody } }, async (req, reply) => {
    const input = checkSaveInput(req.body)
    const saved = await app.db.saveQuery(input, req.user)
    return reply.render('ide/_sidebar', await sidebarData(app, saved.id), { status: 201 })
  })

  app.delete('/queries/:id', { schema: { params: IdParams } }, async (req, reply) => {
    await app.db.deleteQuery(req.params.id)
    return reply.render('ide/_sidebar', await sidebarData(app))
  })
}

export default queries
