// The grounded assistant: the real AiService tool loop, the real MetadataService over the StackQL
// stand-in, and the Anthropic stand-in speaking tool use, through the real @anthropic-ai/sdk.
import Anthropic from '@anthropic-ai/sdk'
import t from 'tap'
import type { AiChunk } from '../src/assistant/chunks.js'
import { MetadataCache } from '../src/db/metadata-cache.js'
import { MetadataService } from '../src/explorer/metadata-service.js'
import { AiService, type AiServiceOptions, type ChatMessage } from '../src/services/ai-service.js'
import { testDb } from './helpers/db.js'
import { makeRunner, type Tap } from './helpers/stackql.js'
import { type AnthropicStandin, type RecordedRequest, startAnthropicStandin } from './standins/anthropic.js'

const MODEL = 'claude-test-model'
const ask = (text: string): ChatMessage[] => [{ role: 'user', content: text }]

let standin: AnthropicStandin
t.before(async () => {
  standin = await startAnthropicStandin()
})
t.teardown(() => standin.close())

async function assistant(t: Tap, over: Partial<AiServiceOptions> = {}) {
  const { db } = await testDb(t)
  const { runner } = makeRunner(t)
  const metadata = new MetadataService({ runner, cache: new MetadataCache(db) })
  const ai = new AiService({
    model: MODEL,
    baseURL: standin.url,
    getApiKey: async () => standin.apiKey,
    metadata,
    ...over,
  })
  return { ai, metadata }
}

async function collect(gen: AsyncGenerator<AiChunk>): Promise<AiChunk[]> {
  const out: AiChunk[] = []
  for await (const c of gen) out.push(c)
  return out
}
const of = <K extends AiChunk['type']>(chunks: AiChunk[], type: K) =>
  chunks.filter((c): c is Extract<AiChunk, { type: K }> => c.type === type)
const since = (before: number) => standin.messageRequests().slice(before)
type Block = { type: string; id?: string; tool_use_id?: string; is_error?: boolean; content?: string }
const contentOf = (r: RecordedRequest, i: number) =>
  (((r.body?.messages ?? []) as { content: unknown }[])[i]?.content ?? []) as Block[]

t.test(
  'stand-in: a tool call streams as a tool_use block of input_json_delta pieces with stop_reason tool_use',
  async (t) => {
    const client = new Anthropic({ apiKey: standin.apiKey, baseURL: standin.url, maxRetries: 0 })
    standin.script({
      kind: 'tool_use',
      calls: [
        { name: 'describe_resource', input: { provider: 'aws', service: 'ec2', resource: 'instances' } },
      ],
    })
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'columns?' }],
      tools: [{ name: 'describe_resource', input_schema: { type: 'object', properties: {} } }],
      stream: true,
    })
    const events: string[] = []
    let json = ''
    let id = ''
    let stop: string | null | undefined
    for await (const e of stream) {
      events.push(e.type === 'content_block_delta' ? `delta:${e.delta.type}` : e.type)
      if (e.type === 'content_block_start' && e.content_block.type === 'tool_use') id = e.content_block.id
      if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta')
        json += e.delta.partial_json
      if (e.type === 'message_delta') stop = e.delta.stop_reason
    }
    t.equal(stop, 'tool_use')
    t.match(id, /^toolu_/)
    t.same(JSON.parse(json), { provider: 'aws', service: 'ec2', resource: 'instances' })
    t.ok(
      events.filter((e) => e === 'delta:input_json_delta').length > 1,
      'the input arrives in several pieces',
    )
    t.equal(events[0], 'message_start')
    t.same(events.slice(-3), ['content_block_stop', 'message_delta', 'message_stop'])
  },
)

t.test(
  'stand-in: a tool_use not answered by a tool_result with its id in the next user turn is a 400',
  async (t) => {
    const client = new Anthropic({ apiKey: standin.apiKey, baseURL: standin.url, maxRetries: 0 })
    const tools = [{ name: 'show_methods', input_schema: { type: 'object' as const, properties: {} } }]
    const assistantTurn = {
      role: 'assistant' as const,
      content: [{ type: 'tool_use' as const, id: 'toolu_01abc', name: 'show_methods', input: {} }],
    }
    const unanswered = client.messages.create({
      model: MODEL,
      max_tokens: 10,
      tools,
      messages: [{ role: 'user', content: 'q' }, assistantTurn, { role: 'user', content: 'and?' }],
    })
    await t.rejects(unanswered, { status: 400, type: 'invalid_request_error', message: /toolu_01abc/ })
    const wrongId = client.messages.create({
      model: MODEL,
      max_tokens: 10,
      tools,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'no tool call here' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_other', content: 'x' }] },
      ],
    })
    await t.rejects(wrongId, {
      status: 400,
      type: 'invalid_request_error',
      message: /unexpected `tool_use_id`/,
    })
    const answered = await client.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'q' },
        assistantTurn,
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_01abc', content: 'list_instances' }],
        },
      ],
      tools,
    })
    t.equal(answered.type, 'message', 'a correctly answered tool_use is accepted')
  },
)

t.test(
  'Write Query looks up the columns and the methods, then answers with SQL that passes the check',
  async (t) => {
    const { ai } = await assistant(t)
    const before = standin.messageRequests().length
    const chunks = await collect(ai.streamChat(ask('stopped instances in us-east-1'), 'query'))
    t.same(of(chunks, 'error'), [])
    const steps = of(chunks, 'step').map((c) => c.step)
    t.same(
      steps.map((s) => s.label),
      [
        'Looked up aws.ec2.instances — 68 columns',
        'Looked up the methods of aws.ec2.instances — 3 methods, SELECT needs region',
      ],
    )
    t.equal(of(chunks, 'step-start').length, 2, 'each lookup is announced before it runs')
    const [check] = of(chunks, 'check')
    t.ok(check?.check.passed, 'the final SQL passes the check')
    t.match(check?.check.sql, /FROM aws\.ec2\.instances WHERE region = 'us-east-1'/)
    const requests = since(before)
    t.equal(requests.length, 3)
    t.ok(Array.isArray(requests[0]!.body?.tools), 'the tools are offered')
    const toolUseId = requests[0]!.toolUseIds[0]
    t.same(
      contentOf(requests[1]!, 2).map((b) => [b.type, b.tool_use_id]),
      [['tool_result', toolUseId]],
      'the next request answers the tool_use with its id',
    )
    t.match(
      contentOf(requests[1]!, 2)[0]!.content,
      /instance_id \(string\)/,
      'the result carries the real columns',
    )
  },
)

t.test(
  'SQL that fails the check is sent back once with the warnings; the corrected query passes',
  async (t) => {
    const { ai } = await assistant(t)
    const before = standin.messageRequests().length
    const chunks = await collect(ai.streamChat(ask('[standin:wrong-column] stopped instances'), 'query'))
    const checks = of(chunks, 'check').map((c) => c.check)
    t.equal(checks.length, 2)
    t.equal(checks[0]!.passed, false)
    t.ok(checks[0]!.retrying)
    t.match(checks[0]!.warnings.join(' '), /instance_stat/)
    t.ok(checks[1]!.passed, 'the corrected query passes')
    const last = since(before).at(-1)!
    const messages = last.body?.messages as { role: string; content: unknown }[]
    t.match(String(messages.at(-1)?.content), /The app checked the query[\s\S]*instance_stat/)
  },
)

t.test('an unknown tool gets an is_error tool_result and the answer continues', async (t) => {
  const { ai } = await assistant(t)
  const before = standin.messageRequests().length
  const chunks = await collect(ai.streamChat(ask('[standin:unknown-tool] instances'), 'query'))
  const first = of(chunks, 'step')[0]!.step
  t.equal(first.ok, false)
  t.match(first.label, /unknown tool "run_shell"/)
  const result = contentOf(since(before)[1]!, 2)[0]!
  t.equal(result.is_error, true)
  t.match(result.content, /Unknown tool "run_shell"\. The tools are: list_services/)
  t.same(of(chunks, 'error'), [])
  t.ok(of(chunks, 'check')[0]?.check.passed, 'the answer still ends with a checked query')
})

t.test(
  'a tool call with bad input gets an is_error tool_result naming the field, and the answer continues',
  async (t) => {
    const { ai } = await assistant(t)
    const before = standin.messageRequests().length
    const chunks = await collect(ai.streamChat(ask('[standin:bad-input] instances'), 'query'))
    t.equal(of(chunks, 'step')[0]!.step.ok, false)
    const result = contentOf(since(before)[1]!, 2)[0]!
    t.equal(result.is_error, true)
    t.match(result.content, /"provider" must be a name/)
    t.ok(of(chunks, 'check')[0]?.check.passed)
  },
)

t.test('a model that keeps calling tools is stopped after 8 lookups with a message', async (t) => {
  const { ai } = await assistant(t)
  const before = standin.messageRequests().length
  const chunks = await collect(ai.streamChat(ask('[standin:loop] everything'), 'query'))
  t.equal(of(chunks, 'step').length, 8)
  t.match(
    of(chunks, 'error').map((c) => c.message),
    [/stopped after 8 lookups/],
  )
  t.equal(since(before).length, 9, 'the ninth call is never run')
})

t.test('a stream cut inside a tool call is a readable error naming the lookup; nothing runs', async (t) => {
  const { ai } = await assistant(t)
  const cut = await collect(ai.streamChat(ask('[standin:cut-tool] instances'), 'query'))
  t.same(of(cut, 'step'), [])
  t.match(
    of(cut, 'error').map((c) => c.message),
    [/cut off[\s\S]*describe_resource/],
  )
  const errored = await collect(ai.streamChat(ask('[standin:error-tool] instances'), 'query'))
  t.match(
    of(errored, 'error').map((c) => c.message),
    [/interrupted[\s\S]*overloaded[\s\S]*describe_resource/],
  )
})

t.test(
  'a 429 is shown at once as a wait with its retry time; the SDK does not retry on its own',
  async (t) => {
    const { ai } = await assistant(t, { retryMaxWaitMs: 30_000 })
    const before = standin.messageRequests().length
    standin.script({ kind: 'error', status: 429, retryAfterS: 30 })
    const controller = new AbortController()
    const started = Date.now()
    const chunks: AiChunk[] = []
    for await (const c of ai.streamChat(ask('instances'), 'query', controller.signal)) {
      chunks.push(c)
      if (c.type === 'wait') controller.abort() // the user presses Stop during the countdown
    }
    // Long before the 30 s wait itself (room for a busy machine).
    t.ok(Date.now() - started < 3000, 'the wait is reported at once')
    const [wait] = of(chunks, 'wait')
    t.match(wait?.message, /rate limited[\s\S]*Retrying in 30 s/)
    t.ok(Math.abs(wait!.retryAt - (started + 30_000)) < 1500, 'retryAt is 30 s ahead')
    t.equal(since(before).length, 1, 'one request: no silent SDK retry')
    t.same(of(chunks, 'error'), [], 'Stop ends the wait quietly')
  },
)

t.test('a short retry-after is waited out visibly and the answer then arrives', async (t) => {
  const { ai } = await assistant(t)
  standin.script({ kind: 'error', status: 529, retryAfterS: 1 }, { kind: 'text', text: 'after the wait' })
  const chunks = await collect(ai.streamChat(ask('hi'), 'results'))
  t.match(of(chunks, 'wait')[0]?.message, /overloaded[\s\S]*Retrying in 1 s/)
  t.equal(
    of(chunks, 'text')
      .map((c) => c.text)
      .join(''),
    'after the wait',
  )
})

t.test('a wait longer than the bound is not retried: the error says when to ask again', async (t) => {
  const { ai } = await assistant(t, { retryMaxWaitMs: 10_000 })
  const before = standin.messageRequests().length
  standin.script({ kind: 'error', status: 429, retryAfterS: 30 })
  const chunks = await collect(ai.streamChat(ask('instances'), 'query'))
  const [error] = of(chunks, 'error')
  t.match(
    error?.message,
    /asks to wait 30 s, longer than the assistant waits on its own \(10 s\): ask again after/,
  )
  t.ok(error?.retryAt && error.retryAt > Date.now() + 25_000)
  t.equal(since(before).length, 1)
})

t.test('the answer has a time bound that covers waits', async (t) => {
  const { ai } = await assistant(t, { answerTimeoutMs: 300 })
  standin.script({ kind: 'error', status: 429, retryAfterS: 5 })
  const chunks = await collect(ai.streamChat(ask('instances'), 'query'))
  t.equal(of(chunks, 'wait').length, 1)
  t.match(
    of(chunks, 'error').map((c) => c.message),
    [/longer than 0 s \(AI_ANSWER_TIMEOUT_S\)/],
  )
})

t.test('Interpret Results sends no tools and runs no check', async (t) => {
  const { ai } = await assistant(t)
  const before = standin.messageRequests().length
  const chunks = await collect(ai.streamChat(ask('| a |\n|---|\n| 1 |'), 'results'))
  t.equal(since(before)[0]!.body?.tools, undefined)
  t.same(of(chunks, 'check'), [])
  t.same(of(chunks, 'step'), [])
})
