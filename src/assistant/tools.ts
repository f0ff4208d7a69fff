// The assistant's lookup tools (Anthropic tool use): their definitions for the API and how one
// call runs against the metadata. A bad input or an unknown tool is a tool_result error, never a throw.
import type { AssistantStep } from './chunks.js'
import type { AssistantMetadata, NamedEntry } from './metadata.js'

export const MAX_TOOL_CALLS = 8

const NAME = { type: 'string', pattern: '^[A-Za-z0-9_]{1,100}$' } as const
/** The input of the tools that take one provider.service.resource. */
const RESOURCE_INPUT = {
  type: 'object' as const,
  properties: {
    provider: { ...NAME, description: 'provider name, e.g. aws' },
    service: { ...NAME, description: 'service name, e.g. ec2' },
    resource: { ...NAME, description: 'resource name, e.g. instances' },
  },
  required: ['provider', 'service', 'resource'],
}

export const TOOLS = [
  {
    name: 'list_services',
    description: 'Lists the services of an installed StackQL provider (for example aws -> ec2, s3, lambda).',
    input_schema: {
      type: 'object' as const,
      properties: { provider: { ...NAME, description: 'provider name, e.g. aws' } },
      required: ['provider'],
    },
  },
  {
    name: 'list_resources',
    description:
      'Lists the resources of one service of a provider (for example aws.ec2 -> instances, volumes).',
    input_schema: {
      type: 'object' as const,
      properties: {
        provider: { ...NAME, description: 'provider name, e.g. aws' },
        service: { ...NAME, description: 'service name, e.g. ec2' },
      },
      required: ['provider', 'service'],
    },
  },
  {
    name: 'describe_resource',
    description:
      'The columns of provider.service.resource with their types and descriptions (DESCRIBE EXTENDED). Use it before naming columns.',
    input_schema: RESOURCE_INPUT,
  },
  {
    name: 'show_methods',
    description:
      'The methods of provider.service.resource with their required parameters (SHOW METHODS): every required parameter of the SELECT method must be in the WHERE clause.',
    input_schema: RESOURCE_INPUT,
  },
]

type ToolName = 'list_services' | 'list_resources' | 'describe_resource' | 'show_methods'
const ARGS: Record<ToolName, string[]> = {
  list_services: ['provider'],
  list_resources: ['provider', 'service'],
  describe_resource: ['provider', 'service', 'resource'],
  show_methods: ['provider', 'service', 'resource'],
}
const IDENT = /^[A-Za-z0-9_]{1,100}$/

export interface ToolOutcome {
  /** The tool_result content sent back to the model. */
  content: string
  isError: boolean
  step: AssistantStep
}

/** What the chat says while a call runs, before it has an answer. */
export function toolStartLabel(name: string, input: unknown): string {
  const target = targetOf(name, input)
  return target ? `Looking up ${target}…` : `Calling ${short(name)}…`
}

function short(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}

function targetOf(name: string, input: unknown): string | undefined {
  const args = ARGS[name as ToolName]
  if (!args || !input || typeof input !== 'object') return undefined
  const values = args.map((a) => (input as Record<string, unknown>)[a])
  if (!values.every((v) => typeof v === 'string' && IDENT.test(v))) return undefined
  return values.join('.')
}

const entryName = (e: NamedEntry) => (typeof e === 'string' ? e : e.name)
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

/** Runs one tool call. Only metadata failures of the lookup itself are reported as errors to the model. */
export async function runTool(
  metadata: AssistantMetadata,
  name: string,
  input: unknown,
  opts: { signal?: AbortSignal; timeoutMs?: number },
): Promise<ToolOutcome> {
  const args = ARGS[name as ToolName]
  if (!args) {
    const known = Object.keys(ARGS).join(', ')
    return fail(
      name,
      `Unknown tool "${short(name)}". The tools are: ${known}.`,
      `Asked for an unknown tool "${short(name)}"`,
    )
  }
  const values: string[] = []
  for (const a of args) {
    const v = input && typeof input === 'object' ? (input as Record<string, unknown>)[a] : undefined
    if (typeof v !== 'string' || !IDENT.test(v)) {
      return fail(
        name,
        `Invalid input for ${name}: "${a}" must be a name of letters, digits and underscores (required: ${args.join(', ')}).`,
        `${name} was called with a bad "${a}"`,
      )
    }
    values.push(v)
  }
  const target = values.join('.')
  const [provider, service, resource] = values as [string, string, string]
  try {
    if (name === 'list_services') {
      const rows = (await metadata.listServices(provider, opts)).map(entryName)
      return ok(
        name,
        rows.join('\n') || '(no services)',
        `Listed the services of ${target} — ${plural(rows.length, 'service', 'services')}`,
      )
    }
    if (name === 'list_resources') {
      const rows = (await metadata.listResources(provider, service, opts)).map(entryName)
      return ok(
        name,
        rows.join('\n') || '(no resources)',
        `Listed the resources of ${target} — ${plural(rows.length, 'resource', 'resources')}`,
      )
    }
    if (name === 'describe_resource') {
      const cols = await metadata.describeResource(provider, service, resource, opts)
      const content = cols
        .map((c) => `${c.name} (${c.type})${c.description ? `: ${c.description.slice(0, 200)}` : ''}`)
        .join('\n')
      return ok(
        name,
        content || '(no columns)',
        `Looked up ${target} — ${plural(cols.length, 'column', 'columns')}`,
      )
    }
    const methods = await metadata.showMethods(provider, service, resource, opts)
    const content = methods
      .map(
        (m) =>
          `${m.name} [${m.sqlVerb}] required: ${m.requiredParams.length ? m.requiredParams.join(', ') : '(none)'}`,
      )
      .join('\n')
    const select = methods.find((m) => m.sqlVerb.toUpperCase() === 'SELECT')
    const needs = select?.requiredParams.length ? `, SELECT needs ${select.requiredParams.join(', ')}` : ''
    return ok(
      name,
      content || '(no methods)',
      `Looked up the methods of ${target} — ${plural(methods.length, 'method', 'methods')}${needs}`,
    )
  } catch (e) {
    if (opts.signal?.aborted) throw e
    const reason = e instanceof Error && e.message ? e.message.slice(0, 300) : 'the lookup failed'
    return fail(
      name,
      `The lookup of ${target} failed: ${reason}`,
      `The lookup of ${target} failed: ${reason}`,
    )
  }
}

function ok(tool: string, content: string, label: string): ToolOutcome {
  return { content, isError: false, step: { tool, label, ok: true } }
}

function fail(tool: string, content: string, label: string): ToolOutcome {
  return { content, isError: true, step: { tool, label, ok: false } }
}
