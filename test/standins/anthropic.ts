// A local stand-in for the Anthropic Messages API (POST /v1/messages) speaking the real protocol:
// the same headers, error bodies and SSE events, so the real @anthropic-ai/sdk can be pointed at it.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { markedScenario, type ScenarioName, scenarioReply } from './anthropic-scenarios.js'
import { type ToolUseReply, toolProblem, toolUseId, writeToolUse } from './anthropic-tools.js'

export type { ScenarioName } from './anthropic-scenarios.js'
export type { ToolCallScript, ToolUseReply } from './anthropic-tools.js'

export const STANDIN_API_KEY = 'sk-ant-standin-0123456789abcdef'

export type StandinErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'

/** What the stand-in does with one request. Queued with `script(...)`, consumed in order. */
export type StandinReply =
  /** A normal answer, streamed one token per content_block_delta (or one JSON body without `stream`). */
  | { kind: 'text'; text: string; tokenDelayMs?: number; stopReason?: 'end_turn' | 'max_tokens' }
  /** An HTTP error with the real error body; 429 carries `retry-after` (seconds). */
  | { kind: 'error'; status: number; type?: StandinErrorType; message?: string; retryAfterS?: number }
  /**
   * Streams `afterDeltas` tokens of `text`, then destroys the socket (a connection cut mid-answer), or
   * with `how: 'end'` ends the response cleanly without content_block_stop/message_delta/message_stop.
   */
  | { kind: 'cut'; text: string; afterDeltas: number; tokenDelayMs?: number; how?: 'destroy' | 'end' }
  /** Streams `afterDeltas` tokens of `text`, then an `event: error` as the API sends mid-stream. */
  | { kind: 'stream-error'; text: string; afterDeltas: number; type: StandinErrorType; message?: string }
  /** Tool use: streamed tool_use blocks (input_json_delta), stop_reason "tool_use"; optionally cut inside. */
  | ToolUseReply

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  rawBody: string
  /** Parsed JSON body, or undefined when it was not JSON. */
  body: Record<string, unknown> | undefined
  status?: number
  /** True once the response was fully written. */
  completed: boolean
  /** True when the client closed the connection before the response finished (an aborted request). */
  clientClosed: boolean
  /** Number of text deltas written so far. */
  deltasSent: number
  /** The ids of the tool_use blocks this response streamed. */
  toolUseIds: string[]
  /** Resolves when the connection for this request is finished or closed. */
  closed: Promise<void>
}

export interface AnthropicStandinOptions {
  /** The key the stand-in accepts (x-api-key or Authorization: Bearer). */
  apiKey?: string
  /** Delay before each text delta, in ms (the bench uses a fixed per-token delay). */
  tokenDelayMs?: number
  /** Answer given when nothing is scripted; receives the last user message text. */
  defaultAnswer?: (lastUserMessage: string) => string
  /**
   * Whether a request offering tools, with nothing scripted and no marker, gets the `grounded`
   * behaviour (lookups, then SQL). False: it gets the default text answer. Default true.
   */
  toolScenarioByDefault?: boolean
  /** Model ids the stand-in knows; others get 404 not_found_error. Default: any model. */
  models?: string[]
}

export interface AnthropicStandin {
  /** Base URL to pass to the SDK as `baseURL` (no trailing slash). */
  url: string
  apiKey: string
  requests: RecordedRequest[]
  /** Queues replies for the next requests, in order. */
  script: (...replies: StandinReply[]) => void
  /** Requests that reached /v1/messages with any body (including rejected ones). */
  messageRequests: () => RecordedRequest[]
  /**
   * The behaviour for requests nothing is scripted for (a `[standin:<name>]` marker in the first
   * user message wins). Without one, a request offering tools gets the `grounded` behaviour.
   */
  useScenario: (name: ScenarioName | undefined) => void
  close: () => Promise<void>
}

/** The default answer: echoes the question and carries a fenced sql block, like a real answer would. */
export function defaultStandinAnswer(lastUserMessage: string): string {
  const asked = lastUserMessage.replace(/\s+/g, ' ').trim().slice(0, 80)
  return [
    `You asked: ${asked}`,
    '',
    'Here is a query that lists EC2 instances in one region:',
    '',
    '```sql',
    "SELECT instance_id, instance_type, launch_time FROM aws.ec2.instances WHERE region = 'us-east-1'",
    '```',
    '',
    'Change the region to the one you need.',
  ].join('\n')
}

/** Splits text into the tokens streamed as deltas: a word with its trailing whitespace. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? []
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`

function sendError(
  res: ServerResponse,
  status: number,
  type: StandinErrorType,
  message: string,
  retryAfterS?: number,
) {
  const requestId = id('req')
  const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': requestId }
  if (retryAfterS !== undefined) headers['retry-after'] = String(retryAfterS)
  res.writeHead(status, headers)
  res.end(JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }))
}

const DEFAULT_ERROR: Record<number, { type: StandinErrorType; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: {
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  404: { type: 'not_found_error', message: 'The requested resource could not be found.' },
  429: {
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit.',
  },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
}

/** Returns an error description when the headers or body are not what the real API accepts. */
function validate(
  req: IncomingMessage,
  body: Record<string, unknown> | undefined,
  apiKey: string,
  models: string[] | undefined,
): { status: number; type: StandinErrorType; message: string } | undefined {
  const xKey = req.headers['x-api-key']
  const auth = req.headers.authorization
  const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined
  if (xKey === undefined && bearer === undefined) {
    return { status: 401, type: 'authentication_error', message: 'x-api-key header is required' }
  }
  if ((xKey ?? bearer) !== apiKey)
    return { status: 401, type: 'authentication_error', message: 'invalid x-api-key' }
  const version = req.headers['anthropic-version']
  if (typeof version !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(version)) {
    return { status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' }
  }
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return { status: 400, type: 'invalid_request_error', message: 'Content-Type must be application/json' }
  }
  if (!body)
    return { status: 400, type: 'invalid_request_error', message: 'There was an error parsing the body.' }
  const invalid = (message: string) => ({ status: 400, type: 'invalid_request_error' as const, message })
  if (typeof body.model !== 'string' || body.model === '') return invalid('model: Field required')
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) {
    return invalid('max_tokens: Field required (an integer >= 1)')
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) return invalid('messages: Field required')
  for (const [i, m] of (body.messages as unknown[]).entries()) {
    const msg = m as { role?: unknown; content?: unknown }
    if (msg?.role !== 'user' && msg?.role !== 'assistant') {
      return invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`)
    }
    const ok =
      (typeof msg.content === 'string' && msg.content.length > 0) ||
      (Array.isArray(msg.content) && msg.content.length > 0)
    if (!ok) return invalid(`messages.${i}: all messages must have non-empty content`)
  }
  if (body.system !== undefined) {
    const sys = body.system
    const ok =
      typeof sys === 'string' ||
      (Array.isArray(sys) && sys.every((b) => b?.type === 'text' && typeof b.text === 'string'))
    if (!ok) return invalid('system: Input should be a valid string or a list of text blocks')
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean')
    return invalid('stream: Input should be a boolean')
  if (models && !models.includes(body.model)) {
    return { status: 404, type: 'not_found_error', message: `model: ${body.model}` }
  }
  return undefined
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = body.messages as { role: string; content: unknown }[]
  const last = [...messages].reverse().find((m) => m.role === 'user')
  if (!last) return ''
  if (typeof last.content === 'string') return last.content
  return (last.content as { type?: string; text?: string }[])
    .map((b) => (b.type === 'text' ? (b.text ?? '') : ''))
    .join('')
}

/** Starts the stand-in on 127.0.0.1 with an ephemeral port. */
export async function startAnthropicStandin(opts: AnthropicStandinOptions = {}): Promise<AnthropicStandin> {
  const apiKey = opts.apiKey ?? STANDIN_API_KEY
  const defaultAnswer = opts.defaultAnswer ?? defaultStandinAnswer
  const queue: StandinReply[] = []
  const requests: RecordedRequest[] = []
  let scenario: ScenarioName | undefined

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const rawBody = Buffer.concat(chunks).toString('utf8')
    let body: Record<string, unknown> | undefined
    try {
      const parsed = JSON.parse(rawBody)
      body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : undefined
    } catch {
      body = undefined
    }
    let markClosed!: () => void
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      rawBody,
      body,
      completed: false,
      clientClosed: false,
      deltasSent: 0,
      toolUseIds: [],
      closed: new Promise<void>((r) => {
        markClosed = r
      }),
    }
    requests.push(record)
    res.on('finish', () => {
      record.completed = true
    })
    res.on('close', () => {
      if (!res.writableFinished) record.clientClosed = true
      markClosed()
    })
    const origWriteHead = res.writeHead.bind(res)
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      record.status = status
      return (origWriteHead as (...a: unknown[]) => ServerResponse)(status, ...rest)
    }) as typeof res.writeHead

    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/messages') {
      return sendError(res, 404, 'not_found_error', 'Not Found')
    }
    const problem = validate(req, body, apiKey, opts.models)
    if (problem) return sendError(res, problem.status, problem.type, problem.message)
    const validBody = body as Record<string, unknown>
    const shapeProblem = toolProblem(validBody)
    if (shapeProblem) return sendError(res, 400, 'invalid_request_error', shapeProblem)
    const messages = validBody.messages as { role: string; content: unknown }[]
    const chosen =
      markedScenario(messages) ??
      scenario ??
      (Array.isArray(validBody.tools) && opts.toolScenarioByDefault !== false ? 'grounded' : undefined)
    const reply: StandinReply = queue.shift() ??
      (chosen ? scenarioReply(chosen, messages) : undefined) ?? {
        kind: 'text',
        text: defaultAnswer(lastUserText(validBody)),
      }
    if (reply.kind === 'tool_use' && !Array.isArray(validBody.tools)) {
      // A scripted tool call on a request without tools would be a stand-in bug, not an API answer.
      return sendError(res, 500, 'api_error', 'stand-in: tool_use scripted for a request without tools')
    }
    if (reply.kind === 'error') {
      const fallback = DEFAULT_ERROR[reply.status] ?? DEFAULT_ERROR[500]!
      const retryAfter = reply.retryAfterS ?? (reply.status === 429 ? 30 : undefined)
      return sendError(
        res,
        reply.status,
        reply.type ?? fallback.type,
        reply.message ?? fallback.message,
        retryAfter,
      )
    }
    const model = validBody.model as string
    if (validBody.stream !== true && reply.kind === 'tool_use') {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': id('req') })
      const content = [
        ...(reply.text ? [{ type: 'text', text: reply.text }] : []),
        ...reply.calls.map((c) => ({
          type: 'tool_use',
          id: toolUseId(),
          name: c.name,
          input: c.input ?? {},
        })),
      ]
      record.toolUseIds.push(...content.flatMap((b) => ('id' in b ? [b.id] : [])))
      res.end(
        JSON.stringify({
          id: id('msg'),
          type: 'message',
          role: 'assistant',
          model: validBody.model,
          content,
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 25, output_tokens: 30 },
        }),
      )
      return
    }
    if (validBody.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': id('req') })
      res.end(
        JSON.stringify({
          id: id('msg'),
          type: 'message',
          role: 'assistant',
          model,
          content: [{ type: 'text', text: reply.text ?? '' }],
          stop_reason: reply.kind === 'text' ? (reply.stopReason ?? 'end_turn') : 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 25, output_tokens: tokenize(reply.text ?? '').length },
        }),
      )
      return
    }
    if (reply.kind === 'tool_use') return streamToolUse(res, record, reply, model)
    await streamReply(res, record, reply, model, opts.tokenDelayMs ?? 0)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    script: (...replies) => {
      queue.push(...replies)
    },
    messageRequests: () => requests.filter((r) => r.path.startsWith('/v1/messages')),
    useScenario: (name) => {
      scenario = name
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function messageStart(model: string) {
  return {
    type: 'message_start',
    message: {
      id: id('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 25,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    },
  }
}

/** Streams a tool_use reply (always streamed: the app only uses streaming), with its scripted cut. */
async function streamToolUse(
  res: ServerResponse,
  record: RecordedRequest,
  reply: ToolUseReply,
  model: string,
) {
  const send = (event: string, data: unknown) => {
    if (!res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': id('req'),
  })
  send('message_start', messageStart(model))
  send('ping', { type: 'ping' })
  const outcome = writeToolUse(send, reply, (toolId) => record.toolUseIds.push(toolId))
  if (outcome === 'cut') {
    if (reply.cut === 'destroy') {
      await sleep(20)
      res.socket?.destroy()
    } else {
      res.end()
    }
    return
  }
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { output_tokens: 30 },
  })
  send('message_stop', { type: 'message_stop' })
  res.end()
}

/** Writes the real Messages streaming events for one reply, honouring faults and client disconnects. */
async function streamReply(
  res: ServerResponse,
  record: RecordedRequest,
  reply: Exclude<StandinReply, { kind: 'error' } | ToolUseReply>,
  model: string,
  defaultDelayMs: number,
): Promise<void> {
  const send = (event: string, data: unknown) => {
    if (!res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': id('req'),
  })
  send('message_start', {
    type: 'message_start',
    message: {
      id: id('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 25,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    },
  })
  send('content_block_start', {
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'text', text: '' },
  })
  send('ping', { type: 'ping' })
  const tokens = tokenize(reply.text)
  const limit = reply.kind === 'text' ? tokens.length : Math.min(reply.afterDeltas, tokens.length)
  const delay =
    'tokenDelayMs' in reply && reply.tokenDelayMs !== undefined ? reply.tokenDelayMs : defaultDelayMs
  for (let i = 0; i < limit; i++) {
    if (delay > 0) await sleep(delay)
    if (res.destroyed) return
    send('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: tokens[i] },
    })
    record.deltasSent++
  }
  if (reply.kind === 'cut' && reply.how === 'end') {
    res.end()
    return
  }
  if (reply.kind === 'cut') {
    // Let the written deltas reach the client before the connection dies, as a real network cut would.
    await sleep(20)
    res.socket?.destroy()
    return
  }
  if (reply.kind === 'stream-error') {
    const fallback = Object.values(DEFAULT_ERROR).find((e) => e.type === reply.type)
    send('error', {
      type: 'error',
      error: { type: reply.type, message: reply.message ?? fallback?.message ?? 'Error' },
    })
    res.end()
    return
  }
  send('content_block_stop', { type: 'content_block_stop', index: 0 })
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: reply.stopReason ?? 'end_turn', stop_sequence: null },
    usage: { output_tokens: tokens.length },
  })
  send('message_stop', { type: 'message_stop' })
  res.end()
}
