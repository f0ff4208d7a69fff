// The AI assistant: `fastify.ai`. The Anthropic key is resolved per chat (secret
// <SECRET_SCOPE>/anthropic-api-key, or ANTHROPIC_API_KEY in local dev) and handed to the SDK only.
// Write Query's lookups and the check of its SQL use `fastify.metadata` (the explorer's metadata
// service: credential-free metadata statements, cached per provider + version).
import fp from 'fastify-plugin'
import { AiService } from '../../src/services/ai-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    ai: AiService
  }
}

export default fp(
  async (app) => {
    const ai = new AiService({
      model: app.config.anthropic.model,
      baseURL: app.config.anthropic.baseURL,
      answerTimeoutMs: app.config.anthropic.answerTimeoutMs,
      retryMaxWaitMs: app.config.anthropic.retryMaxWaitMs,
      getApiKey: () => app.credentials.anthropicKey(app.config.secretScope),
      metadata: app.metadata,
      logger: app.log,
    })
    app.decorate('ai', ai)
  },
  { fastify: '5.x', name: 'ai', dependencies: ['config', 'stackql', 'metadata'] },
)
