// The IDE area (initial page; the full feature lands with its issue).
import type { FastifyPluginAsync } from 'fastify'

const ide: FastifyPluginAsync = async (app) => {
  app.get('/', async (_req, reply) => reply.render('ide/index', {}, { title: 'IDE' }))
}

export default ide
