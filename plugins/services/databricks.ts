// The workspace connection, when one is configured (DATABRICKS_HOST + a PAT or the app's service
// principal): `fastify.databricks` (REST client), `fastify.secrets` (Secrets API) and
// `fastify.jobs` (Jobs 2.2 job service). All three are undefined in local development.
import fp from 'fastify-plugin'
import { DatabricksClient } from '../../src/databricks/client.js'
import { JobsApi } from '../../src/databricks/jobs-api.js'
import { DatabricksSecrets } from '../../src/databricks/secrets.js'
import type { SecretsReader } from '../../src/secrets.js'
import { JobService } from '../../src/services/job-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    databricks: DatabricksClient | undefined
    secrets: SecretsReader | undefined
    jobs: JobService | undefined
  }
}

export default fp(
  async (app) => {
    const cfg = app.config.databricks
    const client = cfg ? new DatabricksClient(cfg) : undefined
    app.decorate('databricks', client)
    app.decorate('secrets', client ? new DatabricksSecrets(client) : undefined)
    app.decorate(
      'jobs',
      client
        ? new JobService({
            api: new JobsApi(client),
            templateJob: app.config.templateJob,
            timezone: app.config.jobTimezone,
            forEachThreshold: app.config.forEachThreshold,
            forEachConcurrency: app.config.forEachConcurrency,
          })
        : undefined,
    )
    if (client) app.addHook('onClose', () => client.close())
  },
  { fastify: '5.x', name: 'databricks', dependencies: ['config'] },
)
