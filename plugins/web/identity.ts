// Who is asking: the Databricks Apps proxy puts the signed-in user's e-mail in X-Forwarded-Email.
// The header is trusted only there (or with TRUST_FORWARDED_EMAIL=true); otherwise — local
// development — everyone is the configurable fallback user.
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyRequest {
    user: string
  }
}

const EMAIL = /^[^\s@<>"']{1,200}@[^\s@<>"']{1,200}$/

export default fp(
  async (app) => {
    const fallback = app.config.inDatabricksApp ? 'unknown-user' : app.config.localUserEmail
    app.decorateRequest('user', '')
    const trusted = app.config.trustForwardedEmail
    app.addHook('onRequest', async (req) => {
      if (!trusted) {
        req.user = fallback
        return
      }
      const header = req.headers['x-forwarded-email']
      const email = Array.isArray(header) ? header[0] : header
      req.user = email && EMAIL.test(email) ? email : fallback
    })
  },
  { fastify: '5.x', name: 'identity', dependencies: ['config'] },
)
