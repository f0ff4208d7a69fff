// The Inventory area (initial page; the full feature lands with its issue).
import type { FastifyPluginAsync } from 'fastify'

const inventory: FastifyPluginAsync = async (app) => {
  app.get('/', async (_req, reply) => reply.render('inventory/index', {}, { title: 'Inventory' }))
}

export default inventory
