// Builds the web app: services, web infrastructure (security, identity, rendering, errors, assets),
// the four domain areas, /healthz, and any extension plugins platform teams configured.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify'
import type { Config } from '../src/config.js'
import { AppError } from '../src/errors.js'
import { parseSliceSpecs } from '../src/fanout/slices.js'
import { projectRoot, runnerCommand } from '../src/paths.js'
import { createLocalRunLauncher, LOCAL_RUN_MARGIN_MS } from '../src/services/local-runner.js'
import accessPagesPlugin from './access/index.js'
import auditPlugin from './audit/index.js'
import healthPlugin from './health.js'
import idePlugin from './ide/index.js'
import inventoryPlugin from './inventory/index.js'
import providersPlugin from './providers/index.js'
import schedulesPlugin from './schedules/index.js'
import { loggerOptions, type ServiceOptions, servicesPlugin } from './services/index.js'
import accessPlugin from './web/access.js'
import assetsPlugin from './web/assets.js'
import errorsPlugin, { frameworkErrorHandler } from './web/errors.js'
import identityPlugin from './web/identity.js'
import renderPlugin from './web/render.js'
import securityPlugin from './web/security.js'

export interface BuildAppOptions extends Partial<Omit<ServiceOptions, 'config'>> {
  logger?: FastifyServerOptions['logger']
  /** argv that starts the job runner for "Run now" (default: src/paths.ts runnerCommand()). */
  runnerCommand?: string[]
}

/** Loads an extension module: its default export is a Fastify plugin. Relative specifiers resolve from the cwd. */
async function loadExtension(specifier: string): Promise<FastifyPluginAsync> {
  const target =
    /^\.{1,2}\//.test(specifier) || specifier.startsWith('/') ? pathToFileURL(specifier).href : specifier
  let mod: { default?: unknown }
  try {
    mod = await import(target)
  } catch (cause) {
    throw new AppError(
      'CONFIG_INVALID',
      `APP_PLUGINS: cannot load "${specifier}" (${(cause as Error).message}).`,
      { cause },
    )
  }
  if (typeof mod.default !== 'function') {
    throw new AppError(
      'CONFIG_INVALID',
      `APP_PLUGINS: "${specifier}" has no default export that is a Fastify plugin.`,
    )
  }
  return mod.default as FastifyPluginAsync
}

export async function buildApp(config: Config, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? loggerOptions(config),
    bodyLimit: 1024 * 1024,
    trustProxy: config.inDatabricksApp,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler,
  })
  // "Run now" without a workspace: the runner as a child process, given the app's settings and,
  // resolved at click time, the credentials of the query's providers (through its env only).
  const launchLocalRun =
    opts.launchLocalRun ??
    createLocalRunLauncher({
      command: opts.runnerCommand ?? runnerCommand(),
      env: config.runnerEnv,
      runEnv: async (schedule) => {
        const query = await app.db.getQuery(schedule.query_id)
        if (!query) return {}
        // Every provider the text references, default profiles, under profile-qualified names.
        const prepared = await app.queries.prepare(query.query_text)
        // fanout: a schedule across profiles also needs each named profile's mappings.
        const specs = schedule.profiles?.length ? parseSliceSpecs(schedule.profiles) : []
        const extra = specs.length
          ? (await app.db.getProviderConfigFor(specs[0]!.provider)).filter((m) =>
              specs.some((s) => s.profile === '*' || s.profile === (m.profile ?? 'default')),
            )
          : []
        const ids = new Set(prepared.mappings.map((m) => m.id))
        return app.credentials.resolveRunnerEnv([
          ...prepared.mappings,
          ...extra.filter((m) => !ids.has(m.id)),
        ])
      },
      log: app.log,
      cwd: projectRoot,
      logDir: join(config.dataDir, 'runs'),
      timeoutMs: config.stackql.queryTimeoutMs + LOCAL_RUN_MARGIN_MS,
    })
  await app.register(servicesPlugin, {
    config,
    credentialSource: opts.credentialSource ?? (config.localDev ? 'environment' : 'secrets'),
    maxConnections: opts.maxConnections,
    launchLocalRun,
  })
  await app.register(securityPlugin)
  await app.register(identityPlugin)
  await app.register(renderPlugin)
  await app.register(errorsPlugin)
  await app.register(assetsPlugin)
  await app.register(accessPlugin)
  await app.register(healthPlugin)

  await app.register(idePlugin)
  await app.register(schedulesPlugin, { prefix: '/schedules' })
  await app.register(inventoryPlugin, { prefix: '/inventory' })
  await app.register(providersPlugin, { prefix: '/providers' })
  await app.register(auditPlugin, { prefix: '/audit' })
  await app.register(accessPagesPlugin, { prefix: '/access' })

  for (const specifier of config.extensions) {
    await app.register(await loadExtension(specifier))
  }
  return app
}
