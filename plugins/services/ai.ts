// The AI assistant: `fastify.ai`. The Anthropic key is resolved per chat (secret
// <SECRET_SCOPE>/anthropic-api-key, or ANTHROPIC_API_KEY in local dev) and handed to the SDK only.
import fp from 'fastify-plugin'
import { AiService } from '../../src/services/ai-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    ai: AiService
  }
}

export default fp(
  async (app) => {
    app.decorate(
      'ai',
      new AiService({
        model: app.config.anthropic.model,
        baseURL: app.config.anthropic.baseURL,
        getApiKey: () => app.credentials.anthropicKey(app.config.secretScope),
        logger: app.log,
      }),
    )
  },
  { fastify: '5.x', name: 'ai', dependencies: ['config', 'stackql'] },
)
