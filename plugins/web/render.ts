// The one place that decides "full page or fragment": `reply.render(template, data)` renders the
// template alone for an htmx partial request, and inside views/layout.eta otherwise — so a page and
// an htmx swap always come from the same template. Also owns the navigation (extensions add to it).
import { join } from 'node:path'
import view from '@fastify/view'
import { Eta } from 'eta'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { projectRoot } from '../../src/paths.js'

export interface NavItem {
  href: string
  label: string
  /** Shown only to this role and above (plugins/web/access.ts decides the role). */
  role?: 'viewer' | 'editor' | 'admin'
}

export interface RenderOptions {
  status?: number
  title?: string
  /** Force the full page even for an htmx request (e.g. hx-boost navigation). */
  page?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    navigation: NavItem[]
  }
  interface FastifyReply {
    render(template: string, data?: Record<string, unknown>, opts?: RenderOptions): Promise<FastifyReply>
    /** Wraps already-rendered HTML in the layout (full page) or sends it alone (htmx partial). */
    renderHtml(html: string, opts?: RenderOptions): Promise<FastifyReply>
  }
  interface FastifyRequest {
    isPartial: boolean
  }
}

export const CORE_NAVIGATION: NavItem[] = [
  { href: '/', label: 'IDE' },
  { href: '/schedules', label: 'Schedules' },
  { href: '/inventory', label: 'Inventory' },
  { href: '/providers', label: 'Providers' },
]

function activeNav(nav: NavItem[], url: string): string | undefined {
  const path = url.split('?')[0] ?? '/'
  const match = nav.filter((n) =>
    n.href === '/' ? path === '/' : path === n.href || path.startsWith(`${n.href}/`),
  )
  return match.sort((a, b) => b.href.length - a.href.length)[0]?.href
}

export default fp(
  async (app) => {
    const eta = new Eta({ views: join(projectRoot, 'views'), cache: app.config.production })
    await app.register(view, {
      engine: { eta },
      root: join(projectRoot, 'views'),
      production: app.config.production,
    })
    app.decorate('navigation', [...CORE_NAVIGATION])
    // A getter, not an onRequest hook: errors raised by earlier hooks (CSRF) must know it too.
    app.decorateRequest('isPartial', {
      getter(this: FastifyRequest) {
        return this.headers['hx-request'] === 'true' && this.headers['hx-request-type'] !== 'full'
      },
    })

    async function layout(req: FastifyRequest, reply: FastifyReply, body: string, opts: RenderOptions) {
      return reply.viewAsync('layout', {
        body,
        title: opts.title,
        nav: app.navigation.filter((n) => !n.role || req.access?.can(n.role)),
        active: activeNav(app.navigation, req.url),
        user: req.user,
        access: req.access,
        csrfToken: reply.generateCsrf(),
        db: app.db.health.status,
      })
    }

    app.decorateReply(
      'renderHtml',
      async function (this: FastifyReply, html: string, opts: RenderOptions = {}) {
        const full = opts.page || !this.request.isPartial
        const out = full ? await layout(this.request, this, html, opts) : html
        return this.code(opts.status ?? this.statusCode)
          .type('text/html; charset=utf-8')
          .send(out)
      },
    )

    app.decorateReply(
      'render',
      async function (
        this: FastifyReply,
        template: string,
        data: Record<string, unknown> = {},
        opts: RenderOptions = {},
      ) {
        const body = await this.viewAsync(template, {
          ...data,
          user: this.request.user,
          access: this.request.access,
        })
        return this.renderHtml(body, opts)
      },
    )
  },
  { fastify: '5.x', name: 'render', dependencies: ['config', 'db', 'security', 'identity'] },
)
