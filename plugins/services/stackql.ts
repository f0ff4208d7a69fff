// The StackQL engine and the query service: `fastify.stackql` (runner), `fastify.credentials`
// (secret resolution for providers and the Anthropic key) and `fastify.queries` (QueryService).
import fp from 'fastify-plugin'
import { CredentialResolver, type CredentialSource } from '../../src/services/credentials.js'
import { QueryService } from '../../src/services/query-service.js'
import { createStackqlRunner, type StackqlRunner } from '../../src/stackql/runner.js'

declare module 'fastify' {
  interface FastifyInstance {
    stackql: StackqlRunner
    credentials: CredentialResolver
    queries: QueryService
  }
}

export default fp(
  async (app, opts: { credentialSource: CredentialSource }) => {
    const runner = createStackqlRunner(app.config.stackql, app.log)
    const credentials = new CredentialResolver({ source: opts.credentialSource, secrets: app.secrets })
    app.decorate('stackql', runner)
    app.decorate('credentials', credentials)
    app.decorate(
      'queries',
      new QueryService({
        runner,
        credentials,
        loadProviderConfig: (provider) => app.db.getProviderConfigFor(provider),
        loadProfileVariables: (provider) => app.db.getProfileVariablesFor(provider),
        logger: app.log,
      }),
    )
  },
  { fastify: '5.x', name: 'stackql', dependencies: ['config', 'db', 'databricks'] },
)
