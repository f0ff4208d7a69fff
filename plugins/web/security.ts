// Security headers (helmet's set, strict CSP: scripts only from this origin), form parsing, and CSRF:
// every state-changing request must carry the token from the page's <meta name="csrf-token">
// (public/js/app.js sends it as the x-csrf-token header on each htmx request).
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import fp from 'fastify-plugin'
import helmet from 'helmet'

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * The response headers helmet sets for our (static) policy, computed once: @fastify/helmet would
 * rebuild the same middleware on every request, which costs more than rendering a page.
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader: (name: string, value: string | string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()]
    },
  }
  helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Ace and htmx inject inline styles at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        frameAncestors: ["'self'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // The app is served over plain HTTP locally; Databricks Apps terminates TLS in front of it.
    strictTransportSecurity: false,
  })({} as never, res as never, () => {})
  return headers
}

export default fp(
  async (app) => {
    const headers = securityHeaders()
    app.addHook('onRequest', (_req, reply, done) => {
      reply.headers(headers)
      done()
    })
    await app.register(formbody, { bodyLimit: 1024 * 1024 })
    await app.register(cookie)
    await app.register(csrf, {
      cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, signed: false },
      getToken: (req) => req.headers['x-csrf-token'] as string | undefined,
    })
    app.addHook('onRequest', (req, reply, done) => {
      if (!UNSAFE.has(req.method)) return done()
      app.csrfProtection(req, reply, done)
    })
  },
  { fastify: '5.x', name: 'security' },
)
