// GET /healthz: liveness plus the database's state (200 when it answers, 503 when it does not).
import fp from 'fastify-plugin'

export default fp(
  async (app) => {
    app.get('/healthz', async (_req, reply) => {
      let database: { up: boolean; message?: string } = { up: true }
      try {
        await app.db.ping()
      } catch (e) {
        database = { up: false, message: (e as Error).message }
      }
      reply.header('cache-control', 'no-store')
      return reply.code(database.up ? 200 : 503).send({ status: database.up ? 'ok' : 'degraded', database })
    })
  },
  { fastify: '5.x', name: 'health', dependencies: ['db'] },
)
