// The Provider Config area: provider -> profiles -> mappings (which Databricks secret fills which
// environment variable) and variables (plain values for {{ name }} in queries). Saving a mapping
// checks its variable name and that the secret exists; "Test" resolves a profile's secrets into a
// StackQL child process only (SHOW PROVIDERS). No value ever reaches a page; nothing is cached.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../src/errors.js'
import { IdParams, type ProviderConfig, ProviderConfigInput } from '../../src/models.js'
import { assertCredentialEnvVar } from '../../src/profiles/env-names.js'
import { DEFAULT_PROFILE } from '../../src/profiles/names.js'
import { ALL_ENV_VARS, KNOWN_PROVIDERS, PROVIDER_ENV_VARS } from './catalog.js'
import profileRoutes from './profiles.js'
import { pageModel, rowOf, type SyncNote } from './view-model.js'

/** What each field of the Add Mapping form must look like, in words. */
const FIELD_RULES: Record<string, string> = {
  profile:
    'Profile: use 1-40 lower-case letters, digits, _ and -, starting with a letter or digit (e.g. prod, eu-west), or leave it empty for default.',
  provider:
    'Provider: use the StackQL provider name in lower case (letters, digits and underscores, starting with a letter), e.g. aws, google, github.',
  env_var_name:
    'Environment variable: not a valid environment variable name. Use letters, digits and underscores, not starting with a digit (e.g. AWS_ACCESS_KEY_ID), at most 128 characters.',
  secret_scope:
    'Secret scope: use 1-128 letters, digits, dashes, underscores and dots (the name of a Databricks secret scope).',
  secret_key:
    'Secret key: use 1-128 letters, digits, dashes, underscores and dots (the key inside the scope).',
}

/** Trims every field and lower-cases the provider, so " AWS " is taken as aws. */
function normaliseForm(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(body)) out[k] = typeof v === 'string' ? v.trim() : v
  if (typeof out.provider === 'string') out.provider = out.provider.toLowerCase()
  if (out.profile === '' || out.profile === undefined) out.profile = DEFAULT_PROFILE
  return out
}

function validationMessage(req: FastifyRequest): string {
  const first = req.validationError?.validation?.[0]
  const field =
    (first?.instancePath ?? '').replace(/^\//, '') ||
    String((first?.params as { missingProperty?: string } | undefined)?.missingProperty ?? '')
  return (
    FIELD_RULES[field] ?? 'The mapping is incomplete: fill in provider, environment variable, scope and key.'
  )
}

const providers: FastifyPluginAsync = async (app) => {
  // Every route here handles secret references (and Test resolves a secret): never cache.
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('cache-control', 'no-store')
  })

  async function mappings(highlight?: number, sync?: SyncNote) {
    return pageModel(await app.db.getProviderProfiles(), highlight, sync)
  }

  /**
   * Existing schedules' jobs carry a provider's mappings as secret references: rebuild them after a
   * change. The mapping change stands either way; the note says what happened to the jobs.
   */
  async function syncJobs(provider: string, log: FastifyRequest['log']): Promise<SyncNote | undefined> {
    try {
      const updated = await app.schedules.syncProviderJobs(provider)
      if (updated === 0) return undefined
      return {
        ok: true,
        text: `Updated the Databricks jobs of ${updated} ${updated === 1 ? 'schedule' : 'schedules'} using ${provider} to the new mappings.`,
      }
    } catch (e) {
      log.warn({ provider, code: (e as AppError).code }, 'provider jobs not updated')
      return {
        ok: false,
        text: `The mapping change is saved, but the jobs of schedules using ${provider} could not be updated: ${(e as Error).message} Edit their cron on the Schedules page to retry.`,
      }
    }
  }

  async function mappingOr404(id: number): Promise<ProviderConfig> {
    const m = await app.db.getProviderConfigById(id)
    if (!m)
      throw new AppError('NOT_FOUND', `Provider mapping ${id} does not exist (it may have been deleted).`)
    return m
  }

  const renderRow = (reply: FastifyReply, m: ProviderConfig, confirm: boolean) =>
    reply.render('providers/_row', { m: rowOf(m), confirm })

  app.get('/', async (_req, reply) => {
    const model = await mappings()
    const profileNames = [...new Set(model.providers.flatMap((p) => p.profiles.map((x) => x.profile)))].sort()
    return reply.render(
      'providers/index',
      {
        ...model,
        profileNames,
        localDev: app.credentials.source === 'environment',
        defaultScope: app.config.secretScope,
        knownProviders: KNOWN_PROVIDERS,
        allEnvVars: ALL_ENV_VARS,
        envVarsJson: JSON.stringify(PROVIDER_ENV_VARS),
      },
      { title: 'Providers' },
    )
  })

  app.post<{ Body: ProviderConfigInput }>(
    '/',
    {
      schema: { body: ProviderConfigInput },
      attachValidation: true,
      preValidation: async (req) => {
        req.body = normaliseForm(req.body) as ProviderConfigInput
      },
    },
    async (req, reply) => {
      if (req.validationError) throw new AppError('VALIDATION', validationMessage(req))
      const profile = req.body.profile ?? DEFAULT_PROFILE
      const input: ProviderConfigInput = {
        provider: req.body.provider,
        profile,
        env_var_name: req.body.env_var_name,
        secret_scope: req.body.secret_scope,
        secret_key: req.body.secret_key,
      }
      // Names that would change what the StackQL child or the runner does are refused (issue 12 #5).
      assertCredentialEnvVar(input.provider, input.env_var_name)
      // A duplicate is reported before asking the workspace about the secret (the unique
      // constraint still guards against two saves racing).
      const existing = await app.db.getProviderConfigFor(input.provider)
      if (
        existing.some(
          (m) => m.env_var_name === input.env_var_name && (m.profile ?? DEFAULT_PROFILE) === profile,
        )
      ) {
        throw new AppError(
          'CONFLICT',
          profile === DEFAULT_PROFILE
            ? `Provider ${input.provider} already has a mapping for ${input.env_var_name}. Delete it first to change it.`
            : `Profile ${input.provider}/${profile} already has a mapping for ${input.env_var_name}. Delete it first to change it.`,
        )
      }
      // Nothing is saved unless the secret exists (names scope and key, never a value).
      await app.credentials.checkMapping(input)
      const saved = await app.db.saveProviderConfig(input, req.user)
      req.log.info(
        { provider: saved.provider, profile: saved.profile, envVar: saved.env_var_name, id: saved.id },
        'provider mapping added',
      )
      return reply.render(
        'providers/_mappings',
        await mappings(saved.id, await syncJobs(saved.provider, req.log)),
      )
    },
  )

  app.get<{ Params: { id: number } }>('/:id/row', { schema: { params: IdParams } }, async (req, reply) =>
    renderRow(reply, await mappingOr404(req.params.id), false),
  )

  app.get<{ Params: { id: number } }>(
    '/:id/confirm-delete',
    { schema: { params: IdParams } },
    async (req, reply) => renderRow(reply, await mappingOr404(req.params.id), true),
  )

  app.delete<{ Params: { id: number } }>('/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const m = await mappingOr404(req.params.id)
    await app.db.deleteProviderConfig(m.id)
    req.log.info({ id: m.id }, 'provider mapping deleted')
    return reply.render('providers/_mappings', await mappings(undefined, await syncJobs(m.provider, req.log)))
  })

  app.post<{ Params: { id: number } }>('/:id/test', { schema: { params: IdParams } }, async (req, reply) => {
    const m = await mappingOr404(req.params.id)
    const result = await app.queries.testMapping(m)
    return reply.render('providers/_test-result', { id: m.id, ok: result.ok, message: result.message })
  })

  await app.register(profileRoutes, { render: mappings })
}

export default providers
