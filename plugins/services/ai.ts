// The AI assistant: `fastify.ai`. The Anthropic key is resolved per chat (secret
// <SECRET_SCOPE>/anthropic-api-key, or ANTHROPIC_API_KEY in local dev) and handed to the SDK only.
// Write Query's lookups and check use `fastify.metadata` (the explorer's metadata service) when it
// is registered; without it the assistant answers from memory, unchecked.
import fp from 'fastify-plugin'
import type { AssistantMetadata } from '../../src/assistant/metadata.js'
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
      logger: app.log,
    })
    app.decorate('ai', ai)
    app.addHook('onReady', async () => {
      if (app.hasDecorator('metadata')) {
        ai.useMetadata((app as unknown as { metadata: AssistantMetadata }).metadata)
      }
    })
  },
  { fastify: '5.x', name: 'ai', dependencies: ['config', 'stackql'] },
)
