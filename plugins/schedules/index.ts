// The Schedules area (initial page; the full feature lands with its issue).
import type { FastifyPluginAsync } from 'fastify'

const schedules: FastifyPluginAsync = async (app) => {
  app.get('/', async (_req, reply) => reply.render('schedules/index', {}, { title: 'Schedules' }))
}

export default schedules
