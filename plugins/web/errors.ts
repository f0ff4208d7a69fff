// The one error handler: AppErrors and Fastify's own 4xx errors are shown with their message;
// anything else is logged and shown as a generic, actionable message (never a stack trace).
// People get a full page; htmx requests get the views/partials/error.eta fragment.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isAppError } from '../../src/errors.js'
import { escapeXml } from '../../src/render/sparkline.js'

interface Shown {
  status: number
  code: string
  message: string
}

const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported content type: send a form or JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_CSRF_INVALID_TOKEN: 'The form expired or came from another site. Reload the page and try again.',
  FST_CSRF_MISSING_SECRET: 'The form expired or came from another site. Reload the page and try again.',
  FST_ERR_BAD_URL: 'The address is not valid.',
  FST_ERR_MAX_PARAM_LENGTH: 'The address is too long.',
  FST_ERR_ASYNC_CONSTRAINT: 'The request could not be routed.',
}

function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0]
  if (!first) return 'The request is invalid.'
  const field =
    (first.instancePath || '').replace(/^\//, '').replace(/\//g, '.') || first.params?.missingProperty
  const label = field ? String(field).replace(/_/g, ' ') : (err.validationContext ?? 'input')
  return `Invalid ${label}: ${first.message ?? 'not accepted'}.`
}

export function toShown(err: unknown): Shown {
  if (isAppError(err)) return { status: err.status, code: err.code, message: err.message }
  const fe = err as FastifyError
  if (fe?.validation) return { status: 400, code: 'VALIDATION', message: describeValidation(fe) }
  const status = fe?.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return {
      status,
      code: fe.code ?? 'BAD_REQUEST',
      message: FASTIFY_MESSAGES[fe.code] ?? 'The request is invalid.',
    }
  }
  return {
    status: 500,
    code: 'INTERNAL',
    message:
      'Something went wrong on the server. The details are in the server log; try again, and report it if it persists.',
  }
}

/**
 * Fastify's `frameworkErrors` hook: URLs it cannot even route (invalid percent-encoding, over-long
 * parameters) are answered before any plugin hook ran, so without the layout: a plain page for
 * people, JSON for programs — never Fastify's raw error body.
 */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const shown = toShown(err)
  reply.code(shown.status).header('cache-control', 'no-store')
  if (!req.headers.accept?.includes('text/html') && !req.headers['hx-request']) {
    return reply.send({ error: shown.code, message: shown.message })
  }
  const fragment = `<div id="error-message" class="alert alert-error" role="alert">${escapeXml(shown.message)}</div>`
  return reply
    .type('text/html; charset=utf-8')
    .send(
      req.headers['hx-request'] === 'true'
        ? fragment
        : `<!doctype html><title>Error · StackQL Cloud Inventory</title>${fragment}<p><a href="/">Back to the IDE</a></p>`,
    )
}

export default fp(
  async (app) => {
    async function send(req: FastifyRequest, reply: FastifyReply, shown: Shown) {
      reply.header('cache-control', 'no-store')
      if (!req.headers.accept?.includes('text/html') && !req.headers['hx-request']) {
        return reply.code(shown.status).send({ error: shown.code, message: shown.message })
      }
      return reply.render('partials/error', { error: shown }, { status: shown.status, title: 'Error' })
    }

    app.setErrorHandler(async (err, req, reply) => {
      const shown = toShown(err)
      if (shown.status >= 500 && !isAppError(err)) req.log.error({ err }, 'unhandled error')
      else if (shown.status >= 500) {
        // The underlying driver/HTTP error, for whoever reads the log ("see the server log").
        req.log.warn({ code: shown.code, err: (err as Error).cause }, shown.message)
      }
      return send(req, reply, shown)
    })

    app.setNotFoundHandler(async (req, reply) =>
      send(req, reply, {
        status: 404,
        code: 'NOT_FOUND',
        message: `There is no page at ${req.url.split('?')[0]}.`,
      }),
    )
  },
  { fastify: '5.x', name: 'errors', dependencies: ['render'] },
)
