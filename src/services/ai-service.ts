// The AI assistant: streams Anthropic answers for the IDE chat ("Write Query" / "Interpret Results").
// The key is fetched per call and handed to the SDK constructor only; every failure becomes a
// readable error chunk inside the stream, so the chat can show it where the answer would have been.
import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk'
import { AppError, isAppError } from '../errors.js'

export type ChatMode = 'query' | 'results'
export interface ChatMessage {
  role: 'user' | 'assistant'
  content: string
}
export type AiChunk = { type: 'text'; text: string } | { type: 'error'; message: string }

/** The subset of a pino/Fastify logger the service uses. Only facts are logged, never the key or the chat. */
export interface AiLogger {
  warn(details: Record<string, unknown>, message: string): void
}

export interface AiServiceOptions {
  model: string
  baseURL?: string
  /** Resolves the Anthropic key at call time (secret scope, or the environment in local dev). */
  getApiKey: () => Promise<string>
  /** SDK retries for 429/5xx/connection errors; the SDK honours retry-after. Default 1. */
  maxRetries?: number
  /** Per-attempt request timeout in ms. Default 120 s. */
  timeoutMs?: number
  maxTokens?: number
  logger?: AiLogger
}

export const MAX_CHAT_CHARS = 100_000
export const MAX_CHAT_MESSAGES = 100
export const DEFAULT_MAX_TOKENS = 2048

export const QUERY_SYSTEM_PROMPT = `You are a StackQL expert helping an engineer query cloud infrastructure with StackQL, a SQL dialect over cloud provider APIs.

Rules:
- Write read-only queries: SELECT only (no INSERT, UPDATE, DELETE, EXEC or DDL).
- Tables are named provider.service.resource, for example aws.ec2.instances, google.compute.instances, azure.compute.virtual_machines, github.repos.repos.
- Most resources need parameters in the WHERE clause: region (AWS), project and zone (Google), subscriptionId and resourceGroupName (Azure), org (GitHub), account_id or deployment_name (Databricks). Always include them, with a placeholder value the user can change when you do not know it.
- Column casing varies by provider (Google uses camelCase, AWS snake_case). When unsure of a column, say so and suggest DESCRIBE provider.service.resource or SHOW METHODS IN provider.service.resource.
- Put every query in a fenced code block with the sql language tag (\`\`\`sql ... \`\`\`), one statement per block, the most useful query first.
- Keep explanations short and practical.

Examples:
\`\`\`sql
SELECT instance_id, instance_type, private_ip_address, launch_time FROM aws.ec2.instances WHERE region = 'us-east-1'
\`\`\`
\`\`\`sql
SELECT region, COUNT(*) AS num_functions FROM aws.lambda.functions WHERE region IN ('us-east-1', 'eu-west-1') GROUP BY region
\`\`\`
\`\`\`sql
SELECT name, status FROM google.compute.instances WHERE project = 'my-project' AND zone = 'us-west1-b'
\`\`\`
\`\`\`sql
SELECT id, name FROM azure.compute.virtual_machines WHERE resourceGroupName = 'my-rg' AND subscriptionId = '00000000-0000-0000-0000-000000000000'
\`\`\`
\`\`\`sql
SELECT id, name, description, language, stargazers_count FROM github.repos.repos WHERE org = 'stackql'
\`\`\``

export const RESULTS_SYSTEM_PROMPT = `You are a cloud infrastructure analyst. The user shares the results of a StackQL query (SQL over cloud provider APIs) as a markdown table, usually only the first rows of a larger result.

Your answer:
- Summarise what the results show in a few sentences: what kind of resources, how many, how they are distributed.
- Flag notable findings: high counts, unusual or failed states, resources that look idle or oversized (cost concerns), and anything that looks like a security concern (public exposure, missing encryption, old keys, broad permissions).
- Suggest one to three follow-up StackQL queries, each in a fenced code block with the sql language tag (\`\`\`sql ... \`\`\`), using provider.service.resource names and the required WHERE parameters (region, project, subscriptionId, org, ...).
- Do not repeat the data back verbatim or reproduce the table; refer to specific rows only when they matter.
- When only part of the result is shown, say that your reading is based on those rows.`

export const SYSTEM_PROMPTS: Record<ChatMode, string> = {
  query: QUERY_SYSTEM_PROMPT,
  results: RESULTS_SYSTEM_PROMPT,
}

/**
 * Checks a conversation before anything is sent: non-empty, well-formed, ends with the user, bounded.
 * Routes can call it before opening the SSE stream to answer 400 instead of streaming an error.
 */
export function validateChat(messages: unknown, mode: unknown): asserts messages is ChatMessage[] {
  if (mode !== 'query' && mode !== 'results') {
    throw new AppError(
      'VALIDATION',
      'The chat mode must be "query" (Write Query) or "results" (Interpret Results).',
    )
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new AppError('VALIDATION', 'The chat is empty: type a question first.')
  }
  if (messages.length > MAX_CHAT_MESSAGES) {
    throw new AppError(
      'VALIDATION',
      `The chat is too long (over ${MAX_CHAT_MESSAGES} messages): start a new chat.`,
    )
  }
  let total = 0
  for (const m of messages as Partial<ChatMessage>[]) {
    if (!m || (m.role !== 'user' && m.role !== 'assistant') || typeof m.content !== 'string') {
      throw new AppError(
        'VALIDATION',
        'Each chat message needs a role ("user" or "assistant") and text content.',
      )
    }
    if (m.content.trim() === '') throw new AppError('VALIDATION', 'A chat message is empty.')
    total += m.content.length
  }
  if (total > MAX_CHAT_CHARS) {
    throw new AppError(
      'VALIDATION',
      `The chat is too long (${total} characters, limit ${MAX_CHAT_CHARS}): start a new chat or shorten the message.`,
    )
  }
  if ((messages[messages.length - 1] as ChatMessage).role !== 'user') {
    throw new AppError('VALIDATION', 'The last chat message must be the question from the user.')
  }
}

const KEY_HINT = 'check the anthropic-api-key secret'

export class AiService {
  readonly model: string
  readonly #opts: AiServiceOptions

  constructor(opts: AiServiceOptions) {
    this.model = opts.model
    this.#opts = opts
  }

  /**
   * Streams the assistant's answer as text chunks. Failures end the stream with one error chunk
   * (after any partial text). An aborted signal cancels the upstream request and ends quietly.
   * Throws AppError VALIDATION (on the first `next()`) when the conversation is malformed.
   */
  async *streamChat(messages: ChatMessage[], mode: ChatMode, signal?: AbortSignal): AsyncGenerator<AiChunk> {
    validateChat(messages, mode)
    if (signal?.aborted) return
    let apiKey: string
    try {
      apiKey = await this.#opts.getApiKey()
    } catch (e) {
      if (isAppError(e)) {
        yield { type: 'error', message: e.message }
      } else {
        this.#log({ phase: 'key', error: errorName(e) }, 'reading the Anthropic API key failed')
        yield { type: 'error', message: `The Anthropic API key could not be read: ${KEY_HINT}.` }
      }
      return
    }
    if (signal?.aborted) return
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      yield { type: 'error', message: `The Anthropic API key is empty: ${KEY_HINT}.` }
      return
    }

    const maxTokens = this.#opts.maxTokens ?? DEFAULT_MAX_TOKENS
    const client = new Anthropic({
      apiKey,
      baseURL: this.#opts.baseURL,
      maxRetries: this.#opts.maxRetries ?? 1,
      timeout: this.#opts.timeoutMs ?? 120_000,
      // The SDK's own logging and tracing stay off: our logger records facts without chat content.
      logLevel: 'off',
      openTelemetry: false,
    })
    let streamed = false
    let stopReason: string | null | undefined
    let finished = false
    try {
      const stream = await client.messages.create(
        {
          model: this.model,
          max_tokens: maxTokens,
          system: SYSTEM_PROMPTS[mode],
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          stream: true,
        },
        { signal },
      )
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
          if (event.delta.text) {
            streamed = true
            yield { type: 'text', text: event.delta.text }
          }
        } else if (event.type === 'content_block_start' && event.content_block.type === 'text') {
          if (event.content_block.text) {
            streamed = true
            yield { type: 'text', text: event.content_block.text }
          }
        } else if (event.type === 'message_delta') {
          stopReason = event.delta.stop_reason
        } else if (event.type === 'message_stop') {
          finished = true
        }
      }
    } catch (e) {
      if (signal?.aborted || e instanceof APIUserAbortError) return
      const message = redact(describeFailure(e, { model: this.model, streamed }), apiKey)
      this.#log(
        {
          phase: streamed ? 'stream' : 'request',
          error: errorName(e),
          status: e instanceof APIError ? e.status : undefined,
          type: e instanceof APIError ? e.type : undefined,
          requestId: e instanceof APIError ? e.requestID : undefined,
          model: this.model,
        },
        'the AI assistant request failed',
      )
      yield { type: 'error', message }
      return
    }
    if (signal?.aborted) return
    if (!finished) {
      this.#log(
        { phase: 'stream', error: 'incomplete', model: this.model },
        'the AI answer stream ended early',
      )
      yield { type: 'error', message: CUT_OFF }
    } else if (stopReason === 'max_tokens') {
      yield {
        type: 'error',
        message: `The answer reached the length limit (${maxTokens} tokens) and stops here: ask for a shorter answer or say "continue".`,
      }
    } else if (stopReason === 'refusal') {
      yield { type: 'error', message: 'The assistant declined to answer this request.' }
    }
  }

  #log(details: Record<string, unknown>, message: string): void {
    this.#opts.logger?.warn(details, message)
  }
}

const CUT_OFF = 'The answer was cut off: the connection to Anthropic closed before it finished. Try again.'

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e
}

/** Never let the key through, even if an upstream message were to echo it. */
function redact(text: string, apiKey: string): string {
  return apiKey.length >= 8 ? text.split(apiKey).join('[redacted]') : text
}

/** Retry-after in whole seconds (seconds or an HTTP date), or undefined. */
function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds))
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

/** Turns an SDK/network failure into a sentence for the chat: what failed and what to do. */
export function describeFailure(e: unknown, ctx: { model: string; streamed: boolean }): string {
  const prefix = ctx.streamed ? 'The answer was interrupted. ' : ''
  if (e instanceof APIConnectionTimeoutError) return `${prefix}The request to Anthropic timed out: try again.`
  if (e instanceof APIConnectionError) {
    return ctx.streamed
      ? CUT_OFF
      : 'Could not reach Anthropic (the connection failed): check the network or ANTHROPIC_BASE_URL, then try again.'
  }
  if (!(e instanceof APIError)) {
    return ctx.streamed
      ? CUT_OFF
      : 'The AI assistant failed unexpectedly: try again; if it persists, see the server log.'
  }
  const status = e.status
  const type = e.type
  if (status === 429 || type === 'rate_limit_error') {
    const wait = retryAfterSeconds(e.headers)
    const when = wait === undefined ? 'in a minute' : `in ${wait} s`
    return `${prefix}The AI assistant is rate limited (try again ${when}).`
  }
  if (status === 529 || type === 'overloaded_error') {
    return `${prefix}Anthropic is overloaded right now: try again in a moment.`
  }
  if (status === 401 || type === 'authentication_error') {
    return `The Anthropic API key was rejected: ${KEY_HINT}.`
  }
  if (status === 403 || type === 'permission_error') {
    return `The Anthropic API key is not allowed to use model ${ctx.model}: check the key's permissions or ANTHROPIC_MODEL.`
  }
  if (status === 404 || type === 'not_found_error') {
    return `Anthropic does not know the model "${ctx.model}": check ANTHROPIC_MODEL.`
  }
  if (status === 402 || type === 'billing_error') {
    return 'Anthropic refused the request for a billing reason: check the Anthropic account.'
  }
  if (status === 413) {
    return 'The conversation is too large for Anthropic: start a new chat.'
  }
  if (status === 408 || status === 504 || type === 'timeout_error') {
    return `${prefix}Anthropic took too long to answer: try again.`
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const detail = e.apiMessage ? `: ${e.apiMessage}` : ''
    return `Anthropic rejected the request (HTTP ${status})${detail}`
  }
  const code = status === undefined ? '' : ` (HTTP ${status})`
  return `${prefix}Anthropic had an internal error${code}: try again in a moment.`
}
