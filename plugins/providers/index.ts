// The Providers area (initial page; the full feature lands with its issue).
import type { FastifyPluginAsync } from 'fastify'

const providers: FastifyPluginAsync = async (app) => {
  app.get('/', async (_req, reply) => reply.render('providers/index', {}, { title: 'Providers' }))
}

export default providers
