// Scripted model behaviours of the Anthropic stand-in, chosen per conversation: by a marker in the
// first user message (`[standin:<name>]`) or by `standin.useScenario(name)`. Like the real model
// they are stateless: each reply is decided from the conversation the request carries.
import type { StandinReply } from './anthropic.js'

export type ScenarioName =
  | 'grounded'
  | 'wrong-column'
  | 'unknown-tool'
  | 'bad-input'
  | 'loop'
  | 'cut-tool'
  | 'error-tool'
  | 'rate-limit'
  | 'overloaded'

export const SCENARIOS: ScenarioName[] = [
  'grounded',
  'wrong-column',
  'unknown-tool',
  'bad-input',
  'loop',
  'cut-tool',
  'error-tool',
  'rate-limit',
  'overloaded',
]

interface Msg {
  role: string
  content: unknown
}
interface Block {
  type?: string
  text?: string
  content?: unknown
  is_error?: boolean
  name?: string
  id?: string
  tool_use_id?: string
}

const blocks = (m: Msg | undefined): Block[] =>
  !m ? [] : typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as Block[])
const textOf = (m: Msg | undefined) =>
  blocks(m)
    .filter((b) => b.type === 'text')
    .map((b) => b.text ?? '')
    .join('')
const resultText = (b: Block) =>
  typeof b.content === 'string'
    ? b.content
    : Array.isArray(b.content)
      ? (b.content as Block[]).map((c) => c.text ?? '').join('')
      : ''

/** The scenario a conversation asks for by marker, if any. */
export function markedScenario(messages: Msg[]): ScenarioName | undefined {
  const m = /\[standin:([a-z-]+)\]/.exec(textOf(messages.find((x) => x.role === 'user')))
  return m && SCENARIOS.includes(m[1] as ScenarioName) ? (m[1] as ScenarioName) : undefined
}

const TARGET = { provider: 'aws', service: 'ec2', resource: 'instances' }
const WANTED = ['instance_id', 'instance_type', 'state', 'launch_time']

/** The final answer, built from the columns the describe lookup returned (as a grounded model would). */
function finalAnswer(messages: Msg[], misspell: boolean): string {
  const results = messages.flatMap((m) => blocks(m).filter((b) => b.type === 'tool_result' && !b.is_error))
  const known = new Set(
    results.flatMap((b) =>
      resultText(b)
        .split('\n')
        .map((line) => /^([A-Za-z0-9_]+) \(/.exec(line)?.[1])
        .filter((x): x is string => !!x),
    ),
  )
  const columns = known.size > 0 ? WANTED.filter((c) => known.has(c)) : WANTED
  const shown = misspell ? columns.map((c) => (c === 'state' ? 'instance_stat' : c)) : columns
  return [
    'These are the stopped EC2 instances in us-east-1:',
    '',
    '```sql',
    `SELECT ${shown.join(', ')} FROM aws.ec2.instances WHERE region = 'us-east-1' AND state = 'stopped'`,
    '```',
    '',
    '`region` is required by the SELECT method of aws.ec2.instances.',
  ].join('\n')
}

/** The reply for one request of a scenario. */
export function scenarioReply(name: ScenarioName, messages: Msg[]): StandinReply {
  const last = messages[messages.length - 1]
  const allResults = messages.flatMap((m) => blocks(m).filter((b) => b.type === 'tool_result'))
  const correcting = /The app checked the query/.test(textOf(last))
  const calledTools = messages.flatMap((m) =>
    blocks(m)
      .filter((b) => b.type === 'tool_use')
      .map((b) => b.name),
  )
  switch (name) {
    case 'rate-limit':
      return { kind: 'error', status: 429, retryAfterS: 30 }
    case 'overloaded':
      return { kind: 'error', status: 529 }
    case 'loop':
      return { kind: 'tool_use', calls: [{ name: 'list_services', input: { provider: 'aws' } }] }
    case 'cut-tool':
    case 'error-tool':
      return {
        kind: 'tool_use',
        text: 'Let me look up the columns.',
        calls: [{ name: 'describe_resource', input: TARGET }],
        cut: name === 'cut-tool' ? 'destroy' : 'error',
      }
    case 'unknown-tool':
      if (allResults.length === 0) {
        return { kind: 'tool_use', calls: [{ name: 'run_shell', input: { command: 'ls /' } }] }
      }
      break
    case 'bad-input':
      if (allResults.length === 0) {
        return {
          kind: 'tool_use',
          calls: [{ name: 'describe_resource', input: { provider: 'aws; DROP TABLE x', service: 5 } }],
        }
      }
      break
  }
  if (correcting) return { kind: 'text', text: finalAnswer(messages, false) }
  if (!calledTools.includes('describe_resource')) {
    return {
      kind: 'tool_use',
      text: 'Let me look up the columns of aws.ec2.instances.',
      calls: [{ name: 'describe_resource', input: TARGET }],
    }
  }
  if (!calledTools.includes('show_methods')) {
    return { kind: 'tool_use', calls: [{ name: 'show_methods', input: TARGET }] }
  }
  return { kind: 'text', text: finalAnswer(messages, name === 'wrong-column') }
}
