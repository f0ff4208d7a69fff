// Static files, all served from this origin (no CDN): public/ at /static, and exactly the vendor
// files the pages need from node_modules (htmx 4 + its SSE extension, Ace core + SQL mode + theme).
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import fastifyStatic from '@fastify/static'
import fp from 'fastify-plugin'
import { projectRoot } from '../../src/paths.js'

const require = createRequire(import.meta.url)
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`))

const VENDOR = {
  htmx: { dir: join(packageDir('htmx.org'), 'dist'), files: ['htmx.min.js', 'ext/hx-sse.min.js'] },
  ace: {
    dir: join(packageDir('ace-builds'), 'src-min-noconflict'),
    files: ['ace.js', 'mode-sql.js', 'theme-sqlserver.js'],
  },
}

export default fp(
  async (app) => {
    await app.register(fastifyStatic, {
      root: join(projectRoot, 'public'),
      prefix: '/static/',
      maxAge: app.config.production ? '1h' : 0,
    })
    for (const [name, { dir, files }] of Object.entries(VENDOR)) {
      const allowed = new Set(files.map((f) => `/${f}`))
      await app.register(fastifyStatic, {
        root: dir,
        prefix: `/vendor/${name}/`,
        decorateReply: false,
        maxAge: '1d',
        allowedPath: (pathName) => allowed.has(pathName),
      })
    }
  },
  { fastify: '5.x', name: 'assets', dependencies: ['config'] },
)
