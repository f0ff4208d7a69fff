// The AI assistant: streams Anthropic answers for the IDE chat ("Write Query" / "Interpret Results").
// Write Query runs a bounded tool loop (src/assistant/): the model looks up real metadata, the
// answer's SQL is checked, and every step, wait and failure is a chunk the chat shows at once.
// The key is fetched per call and handed to the SDK constructor only; the SDK never retries on its
// own (maxRetries 0) — rate limits and overloads are waited out here, visibly, within a bound.
import Anthropic, { APIUserAbortError } from '@anthropic-ai/sdk'
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages'
import type { ChatMessage, ChatMode } from '../assistant/chat-types.js'
import type { AiChunk } from '../assistant/chunks.js'
import { errorName, KEY_HINT } from '../assistant/failure.js'
import type { AssistantMetadata } from '../assistant/metadata.js'
import { SYSTEM_PROMPTS } from '../assistant/prompts.js'
import { type AnswerLimits, runAnswer } from '../assistant/tool-loop.js'
import { AppError, isAppError } from '../errors.js'

export type { ChatMessage, ChatMode } from '../assistant/chat-types.js'
export type { AiChunk } from '../assistant/chunks.js'
export { describeFailure } from '../assistant/failure.js'
export { QUERY_SYSTEM_PROMPT, RESULTS_SYSTEM_PROMPT, SYSTEM_PROMPTS } from '../assistant/prompts.js'

/** The subset of a pino/Fastify logger the service uses. Only facts are logged, never the key or the chat. */
export interface AiLogger {
  warn(details: Record<string, unknown>, message: string): void
}

export interface AiServiceOptions {
  model: string
  baseURL?: string
  /** Resolves the Anthropic key at call time (secret scope, or the environment in local dev). */
  getApiKey: () => Promise<string>
  /** Visible retries of a rate limit / overload (the SDK itself never retries). Default 2. */
  maxRetries?: number
  /** A wait longer than this (retry-after) is reported with its time, not retried. Default 30 s. */
  retryMaxWaitMs?: number
  /** The time bound of one whole answer (all turns, lookups and waits). Default 180 s. */
  answerTimeoutMs?: number
  /** The time bound of one lookup. Default 20 s. */
  toolTimeoutMs?: number
  /** Per-request timeout in ms. Default 120 s. */
  timeoutMs?: number
  maxTokens?: number
  /** The metadata lookups and the check; without it Write Query answers from memory, unchecked. */
  metadata?: AssistantMetadata
  logger?: AiLogger
}

export const MAX_CHAT_CHARS = 100_000
export const MAX_CHAT_MESSAGES = 100
export const DEFAULT_MAX_TOKENS = 2048

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

export class AiService {
  readonly model: string
  readonly #opts: AiServiceOptions

  constructor(opts: AiServiceOptions) {
    this.model = opts.model
    this.#opts = opts
  }

  /**
   * Streams the assistant's answer: text, lookup steps, waits, the check, and at most one final
   * error chunk. An aborted signal cancels the upstream request and ends quietly.
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
    const client = new Anthropic({
      apiKey,
      baseURL: this.#opts.baseURL,
      // Never a silent wait: the tool loop retries rate limits itself, visibly and within a bound.
      maxRetries: 0,
      timeout: this.#opts.timeoutMs ?? 120_000,
      // The SDK's own logging and tracing stay off: our logger records facts without chat content.
      logLevel: 'off',
      openTelemetry: false,
    })
    const metadata = mode === 'query' ? this.#opts.metadata : undefined
    const limits: AnswerLimits = {
      maxTokens: this.#opts.maxTokens ?? DEFAULT_MAX_TOKENS,
      maxRetries: this.#opts.maxRetries ?? 2,
      retryMaxWaitMs: this.#opts.retryMaxWaitMs ?? 30_000,
      answerTimeoutMs: this.#opts.answerTimeoutMs ?? 180_000,
      toolTimeoutMs: this.#opts.toolTimeoutMs ?? 20_000,
    }
    const conversation: MessageParam[] = messages.map((m) => ({ role: m.role, content: m.content }))
    try {
      yield* runAnswer({
        client,
        model: this.model,
        apiKey,
        system: SYSTEM_PROMPTS[mode],
        conversation,
        metadata,
        limits,
        signal,
        log: (details, message) => this.#log({ ...details, model: this.model }, message),
      })
    } catch (e) {
      if (signal?.aborted || e instanceof APIUserAbortError) return
      throw e
    }
  }

  #log(details: Record<string, unknown>, message: string): void {
    this.#opts.logger?.warn(details, message)
  }
}
