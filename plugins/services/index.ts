// All service plugins, in dependency order. The web app (plugins/app.ts) and the job runner
// (jobs/run-query.ts) both register exactly this, so they share one set of services.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../../src/config.js'
import aiPlugin from './ai.js'
import configPlugin from './config.js'
import databricksPlugin from './databricks.js'
import dbPlugin from './db.js'
import metadataPlugin from './metadata.js'
import schedulesPlugin, { type SchedulesPluginOptions } from './schedules.js'
import stackqlPlugin from './stackql.js'

export interface ServiceOptions {
  config: Config
  /**
   * Where provider credentials come from: 'secrets' (Databricks Secrets, the web app's default) or
   * 'environment' (STACKQL_LOCAL_DEV=true, and the job runner, whose cluster resolved the
   * {{secrets/..}} references into its environment).
   */
  credentialSource?: 'environment' | 'secrets'
  maxConnections?: number
  launchLocalRun?: SchedulesPluginOptions['launchLocalRun']
}

export const servicesPlugin = fp(
  async (app, opts: ServiceOptions) => {
    await app.register(configPlugin, { config: opts.config })
    await app.register(databricksPlugin)
    await app.register(dbPlugin, { maxConnections: opts.maxConnections })
    await app.register(stackqlPlugin, { credentialSource: opts.credentialSource ?? 'secrets' })
    await app.register(metadataPlugin)
    await app.register(schedulesPlugin, { launchLocalRun: opts.launchLocalRun })
    await app.register(aiPlugin)
  },
  { fastify: '5.x', name: 'services' },
)

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-csrf-token"]',
        'req.headers["x-forwarded-access-token"]',
      ],
      remove: true,
    },
  }
}

/** The services without any page or listener: what the job runner boots. */
export async function buildServiceApp(
  config: Config,
  opts: Omit<ServiceOptions, 'config'> & { logger?: FastifyServerOptions['logger'] } = {},
): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? loggerOptions(config) })
  await app.register(servicesPlugin, { ...opts, config })
  await app.ready()
  return app
}
