// The AI service against the Anthropic stand-in, through the real @anthropic-ai/sdk (baseURL).
import Anthropic from '@anthropic-ai/sdk'
import t from 'tap'
import { AppError } from '../src/errors.js'
import {
  type AiChunk,
  AiService,
  type AiServiceOptions,
  type ChatMessage,
  MAX_CHAT_CHARS,
  QUERY_SYSTEM_PROMPT,
  RESULTS_SYSTEM_PROMPT,
} from '../src/services/ai-service.js'
import { extractSql } from '../src/services/extract-sql.js'
import { type AnthropicStandin, startAnthropicStandin, tokenize } from './standins/anthropic.js'

const MODEL = 'claude-test-model'
const ask: ChatMessage[] = [{ role: 'user', content: 'list my EC2 instances' }]

let standin: AnthropicStandin
t.before(async () => {
  standin = await startAnthropicStandin()
})
t.teardown(() => standin.close())

function service(over: Partial<AiServiceOptions> = {}) {
  const logs: unknown[] = []
  const ai = new AiService({
    model: MODEL,
    baseURL: standin.url,
    getApiKey: async () => standin.apiKey,
    maxRetries: 0,
    logger: { warn: (details, message) => logs.push({ details, message }) },
    ...over,
  })
  return { ai, logs }
}

async function collect(gen: AsyncGenerator<AiChunk>): Promise<AiChunk[]> {
  const out: AiChunk[] = []
  for await (const c of gen) out.push(c)
  return out
}

const textOf = (chunks: AiChunk[]) =>
  chunks
    .filter((c) => c.type === 'text')
    .map((c) => (c as { text: string }).text)
    .join('')
const errorsOf = (chunks: AiChunk[]) =>
  chunks.filter((c) => c.type === 'error').map((c) => (c as { message: string }).message)

t.test('tokens stream in order, one chunk per delta, and the answer carries extractable SQL', async (t) => {
  const answer =
    'Use this:\n\n```sql\nSELECT name FROM google.compute.instances WHERE project = $p\n```\nDone.'
  standin.script({ kind: 'text', text: answer })
  const chunks = await collect(service().ai.streamChat(ask, 'query'))
  t.same(
    chunks,
    tokenize(answer).map((text) => ({ type: 'text', text })),
  )
  t.equal(textOf(chunks), answer)
  t.equal(extractSql(textOf(chunks)), 'SELECT name FROM google.compute.instances WHERE project = $p')
})

t.test(
  'each mode sends its own system prompt, the configured model and the conversation as given',
  async (t) => {
    const conversation: ChatMessage[] = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ]
    for (const [mode, prompt] of [
      ['query', QUERY_SYSTEM_PROMPT],
      ['results', RESULTS_SYSTEM_PROMPT],
    ] as const) {
      const before = standin.requests.length
      await collect(service().ai.streamChat(conversation, mode))
      const req = standin.requests[before]!
      t.equal(req.body?.system, prompt, `${mode} system prompt`)
      t.equal(req.body?.model, MODEL)
      t.equal(req.body?.stream, true)
      t.equal(req.body?.max_tokens, 2048)
      t.same(req.body?.messages, conversation)
    }
    t.match(QUERY_SYSTEM_PROMPT, /SELECT only/)
    t.match(QUERY_SYSTEM_PROMPT, /provider\.service\.resource/)
    t.match(QUERY_SYSTEM_PROMPT, /```sql/)
    t.match(RESULTS_SYSTEM_PROMPT, /security/)
    t.match(RESULTS_SYSTEM_PROMPT, /Do not repeat the data/)
  },
)

t.test('the key travels only in the auth header of requests to the configured API', async (t) => {
  const key = 'sk-ant-only-in-the-header-42'
  const own = await startAnthropicStandin({ apiKey: key })
  t.teardown(() => own.close())
  const { ai, logs } = service({ baseURL: own.url, getApiKey: async () => key })
  const ok = await collect(ai.streamChat(ask, 'query'))
  own.script({ kind: 'error', status: 500 })
  const failed = await collect(ai.streamChat(ask, 'query'))
  t.equal(own.requests.length, 2)
  for (const req of own.requests) {
    // @anthropic-ai/sdk 1.14 sends the key as `Authorization: Bearer`; older versions used x-api-key.
    const carried = req.headers.authorization === `Bearer ${key}` || req.headers['x-api-key'] === key
    t.ok(carried, 'the key is in the auth header')
    const others = Object.entries(req.headers).filter(
      ([name]) => name !== 'authorization' && name !== 'x-api-key',
    )
    t.notOk(JSON.stringify(others).includes(key), 'no other header carries the key')
    t.notOk(req.rawBody.includes(key), 'the body does not carry the key')
  }
  t.notOk(JSON.stringify([ok, failed]).includes(key), 'no chunk carries the key')
  t.ok(logs.length > 0, 'the failure was logged')
  t.notOk(JSON.stringify(logs).includes(key), 'no log line carries the key')
  t.notOk(Object.values(process.env).includes(key), 'the key was not put into the environment')
})

t.test('the key is fetched again for every chat, never cached', async (t) => {
  let calls = 0
  const { ai } = service({
    getApiKey: async () => {
      calls++
      return standin.apiKey
    },
  })
  await collect(ai.streamChat(ask, 'query'))
  await collect(ai.streamChat(ask, 'query'))
  t.equal(calls, 2)
})

t.test('a 429 becomes a readable rate-limit message with the retry-after wait', async (t) => {
  standin.script({ kind: 'error', status: 429, retryAfterS: 17 })
  const chunks = await collect(service().ai.streamChat(ask, 'query'))
  t.same(chunks, [{ type: 'error', message: 'The AI assistant is rate limited (try again in 17 s).' }])
})

t.test('a 529 says Anthropic is overloaded', async (t) => {
  standin.script({ kind: 'error', status: 529 })
  const chunks = await collect(service().ai.streamChat(ask, 'query'))
  t.equal(chunks.length, 1)
  t.match(errorsOf(chunks)[0], /^Anthropic is overloaded/)
})

t.test('a 401 says the key was rejected and points at the anthropic-api-key secret', async (t) => {
  const chunks = await collect(
    service({ getApiKey: async () => 'sk-ant-wrong-key-123' }).ai.streamChat(ask, 'query'),
  )
  t.same(errorsOf(chunks), ['The Anthropic API key was rejected: check the anthropic-api-key secret.'])
  t.equal(standin.requests.at(-1)?.status, 401)
})

t.test('a 500 says Anthropic had an internal error', async (t) => {
  standin.script({ kind: 'error', status: 500 })
  const chunks = await collect(service().ai.streamChat(ask, 'query'))
  t.same(errorsOf(chunks), ['Anthropic had an internal error (HTTP 500): try again in a moment.'])
})

t.test('an unknown model names the model and ANTHROPIC_MODEL', async (t) => {
  const strict = await startAnthropicStandin({ models: ['claude-other-model'] })
  t.teardown(() => strict.close())
  const chunks = await collect(service({ baseURL: strict.url }).ai.streamChat(ask, 'query'))
  t.same(errorsOf(chunks), [`Anthropic does not know the model "${MODEL}": check ANTHROPIC_MODEL.`])
})

t.test('retries are bounded by maxRetries, and a retried request can still succeed', async (t) => {
  const before = standin.requests.length
  standin.script(
    { kind: 'error', status: 500 },
    { kind: 'error', status: 500 },
    { kind: 'error', status: 500 },
  )
  const failed = await collect(service({ maxRetries: 1 }).ai.streamChat(ask, 'query'))
  t.equal(standin.requests.length - before, 2, 'one attempt plus one retry')
  t.equal(errorsOf(failed).length, 1)
  // The third queued 500 hits the next chat's first attempt; its retry gets the answer.
  standin.script({ kind: 'text', text: 'only after clearing the queue' })
  const drained = await collect(service({ maxRetries: 1 }).ai.streamChat(ask, 'query'))
  t.equal(textOf(drained), 'only after clearing the queue', 'a 500 followed by an answer succeeds on retry')
})

t.test('a stream cut mid-answer gives the partial text, then an error', async (t) => {
  standin.script({ kind: 'cut', text: 'one two three four five six', afterDeltas: 3 })
  const chunks = await collect(service().ai.streamChat(ask, 'query'))
  t.equal(textOf(chunks), 'one two three ')
  t.equal(chunks.at(-1)?.type, 'error')
  t.match(errorsOf(chunks), [/^The answer was cut off/])
})

t.test('a stream that ends without message_stop is reported as cut off', async (t) => {
  standin.script({ kind: 'cut', text: 'one two three four', afterDeltas: 2, how: 'end' })
  const chunks = await collect(service().ai.streamChat(ask, 'query'))
  t.equal(textOf(chunks), 'one two ')
  t.match(errorsOf(chunks), [/^The answer was cut off/])
})

t.test('an error event mid-stream follows the partial text with the reason', async (t) => {
  standin.script({ kind: 'stream-error', text: 'alpha beta gamma', afterDeltas: 2, type: 'overloaded_error' })
  const chunks = await collect(service().ai.streamChat(ask, 'query'))
  t.equal(textOf(chunks), 'alpha beta ')
  t.same(errorsOf(chunks), [
    'The answer was interrupted. Anthropic is overloaded right now: try again in a moment.',
  ])
})

t.test('an answer stopped by max_tokens ends with a note about the length limit', async (t) => {
  standin.script({ kind: 'text', text: 'a long answer', stopReason: 'max_tokens' })
  const chunks = await collect(service({ maxTokens: 64 }).ai.streamChat(ask, 'query'))
  t.equal(textOf(chunks), 'a long answer')
  t.match(errorsOf(chunks), [/length limit \(64 tokens\)/])
  t.equal(standin.requests.at(-1)?.body?.max_tokens, 64)
})

t.test('aborting the signal stops the upstream request and ends the stream quietly', async (t) => {
  const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')
  standin.script({ kind: 'text', text: words, tokenDelayMs: 20 })
  const controller = new AbortController()
  const chunks: AiChunk[] = []
  for await (const c of service().ai.streamChat(ask, 'query', controller.signal)) {
    chunks.push(c)
    if (chunks.length === 2) controller.abort()
  }
  const req = standin.requests.at(-1)!
  await req.closed
  t.ok(req.clientClosed, 'the stand-in saw the connection close before the answer finished')
  t.ok(req.deltasSent < 200, `only ${req.deltasSent} of 200 deltas were produced`)
  t.same(errorsOf(chunks), [], 'no error chunk after an abort')
})

t.test('a consumer that stops reading (client gone) also closes the upstream request', async (t) => {
  const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ')
  standin.script({ kind: 'text', text: words, tokenDelayMs: 20 })
  for await (const c of service().ai.streamChat(ask, 'query')) {
    if (c.type === 'text') break
  }
  const req = standin.requests.at(-1)!
  await req.closed
  t.ok(req.clientClosed)
  t.ok(req.deltasSent < 200)
})

t.test('an already aborted signal sends nothing', async (t) => {
  const before = standin.requests.length
  const chunks = await collect(service().ai.streamChat(ask, 'query', AbortSignal.abort()))
  t.same(chunks, [])
  t.equal(standin.requests.length, before)
})

t.test('a missing key secret becomes an error chunk naming scope and key; nothing is sent', async (t) => {
  const before = standin.requests.length
  const message = 'Secret stackql-inventory/anthropic-api-key was not found: create it or check SECRET_SCOPE.'
  const { ai } = service({
    getApiKey: async () => {
      throw new AppError('SECRET_NOT_FOUND', message)
    },
  })
  t.same(await collect(ai.streamChat(ask, 'query')), [{ type: 'error', message }])
  t.equal(standin.requests.length, before)
})

t.test('an unexpected key-reading failure and an empty key both point at the secret', async (t) => {
  const thrown = service({
    getApiKey: async () => {
      throw new Error('socket hang up')
    },
  })
  t.same(errorsOf(await collect(thrown.ai.streamChat(ask, 'query'))), [
    'The Anthropic API key could not be read: check the anthropic-api-key secret.',
  ])
  t.equal(thrown.logs.length, 1, 'the failure is logged for the operator')
  const empty = service({ getApiKey: async () => '  ' })
  t.same(errorsOf(await collect(empty.ai.streamChat(ask, 'query'))), [
    'The Anthropic API key is empty: check the anthropic-api-key secret.',
  ])
})

t.test('an unreachable API becomes a connection message', async (t) => {
  const gone = await startAnthropicStandin()
  const url = gone.url
  await gone.close()
  const chunks = await collect(service({ baseURL: url }).ai.streamChat(ask, 'query'))
  t.match(errorsOf(chunks), [/^Could not reach Anthropic/])
})

t.test('malformed conversations are rejected with VALIDATION before anything is sent', async (t) => {
  const before = standin.requests.length
  const { ai } = service()
  const cases: [string, unknown, unknown][] = [
    ['empty', [], 'query'],
    ['last is assistant', [...ask, { role: 'assistant', content: 'x' }], 'query'],
    ['bad role', [{ role: 'system', content: 'x' }], 'query'],
    ['empty content', [{ role: 'user', content: '   ' }], 'query'],
    ['too long', [{ role: 'user', content: 'x'.repeat(MAX_CHAT_CHARS + 1) }], 'query'],
    ['bad mode', ask, 'chat'],
  ]
  for (const [name, messages, mode] of cases) {
    await t.rejects(
      collect(ai.streamChat(messages as ChatMessage[], mode as 'query')),
      { name: 'AppError', code: 'VALIDATION' },
      name,
    )
  }
  t.equal(standin.requests.length, before)
})

t.test('the stand-in rejects what the real API rejects', async (t) => {
  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(`${standin.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(body) })
  const good = { model: MODEL, max_tokens: 10, messages: ask }
  const auth = {
    'x-api-key': standin.apiKey,
    'anthropic-version': '2023-06-01',
    'content-type': 'application/json',
  }
  const noKey = await post({ 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, good)
  t.equal(noKey.status, 401)
  t.ok(noKey.headers.get('request-id'))
  t.match(await noKey.json(), { type: 'error', error: { type: 'authentication_error' } })
  const noVersion = await post({ 'x-api-key': standin.apiKey, 'content-type': 'application/json' }, good)
  t.equal(noVersion.status, 400)
  t.match(await noVersion.json(), { error: { type: 'invalid_request_error', message: /anthropic-version/ } })
  const noMaxTokens = await post(auth, { model: MODEL, messages: ask })
  t.match(await noMaxTokens.json(), { error: { message: /max_tokens/ } })
  const badSystem = await post(auth, { ...good, system: 42 })
  t.equal(badSystem.status, 400)
  standin.script({ kind: 'error', status: 429, retryAfterS: 3 })
  const limited = await post(auth, good)
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '3')
  t.match(await limited.json(), { type: 'error', error: { type: 'rate_limit_error' } })
})

t.test('the stand-in also answers without streaming, in the Message shape the SDK parses', async (t) => {
  standin.script({ kind: 'text', text: 'plain answer' })
  const client = new Anthropic({
    apiKey: standin.apiKey,
    baseURL: standin.url,
    maxRetries: 0,
    logLevel: 'off',
  })
  const message = await client.messages.create({ model: MODEL, max_tokens: 16, messages: ask })
  t.equal(message.role, 'assistant')
  t.same(message.content, [{ type: 'text', text: 'plain answer' }])
  t.equal(message.stop_reason, 'end_turn')
})
