// Makes the validated Config available to every plugin as `fastify.config`.
import fp from 'fastify-plugin'
import type { Config } from '../../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

export default fp(
  async (app, opts: { config: Config }) => {
    app.decorate('config', opts.config)
  },
  { fastify: '5.x', name: 'config' },
)
