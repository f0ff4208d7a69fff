// The IDE's AI chat. POST /chat streams one answer as SSE: `start` at once (with the prompt the
// server wrote for Explain/Interpret), `render` with the answer so far as safe HTML (throttled),
// `step-start`/`step` for each lookup (HTML list items), `wait` for a visible rate-limit or overload
// wait (HTML with data-retry-at for the countdown), `check` for the SQL check, `error` for a
// failure, and `done` with the raw answer, its steps and check (for the tab's history) and its HTML.
// POST /chat/render turns the tab's stored history back into HTML. Nothing is stored on the server.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { AssistantCheck, AssistantStep } from '../../src/assistant/chunks.js'
import { AppError } from '../../src/errors.js'
import {
  explainPrompt,
  interpretPrompt,
  renderMarkdown,
  rowsToMarkdownTable,
} from '../../src/render/markdown.js'
import { type ChatMessage, type ChatMode, validateChat } from '../../src/services/ai-service.js'
import { extractSql } from '../../src/services/extract-sql.js'
import type { ResultCache } from './result-cache.js'
import { abortOnDisconnect } from './results.js'
import { openSse } from './sse.js'
import { whatChangedText } from './what-changed.js'

export interface ChatOptions {
  cache: ResultCache
  /** Minimum time between two `render` events, in ms. */
  renderIntervalMs?: number
}

const INTERPRET_ROWS = 20

const ChatBody = Type.Object({
  mode: Type.String({ maxLength: 20 }),
  messages: Type.Array(Type.Unknown(), { maxItems: 500 }),
  prompt: Type.Optional(
    Type.Object({
      kind: Type.Union([Type.Literal('explain'), Type.Literal('interpret'), Type.Literal('changes')]),
      query: Type.Optional(Type.String({ maxLength: 100_000 })),
      result_id: Type.Optional(Type.String({ maxLength: 80 })),
      /** kind 'changes' ("What changed"): the run whose change records are summarised. */
      run_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 })),
    }),
  ),
})

const StoredStep = Type.Object({
  tool: Type.String({ maxLength: 100 }),
  label: Type.String({ maxLength: 500 }),
  ok: Type.Boolean(),
})
const StoredCheck = Type.Object({
  sql: Type.String({ maxLength: 100_000 }),
  passed: Type.Boolean(),
  warnings: Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 50 }),
  retrying: Type.Boolean(),
  unavailable: Type.Optional(Type.String({ maxLength: 2000 })),
})
const StoredMessage = Type.Object({
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
  content: Type.String({ maxLength: 200_000 }),
  error: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  steps: Type.Optional(Type.Array(StoredStep, { maxItems: 50 })),
  check: Type.Optional(Type.Union([StoredCheck, Type.Null()])),
})
const RenderBody = Type.Object({ messages: Type.Array(StoredMessage, { maxItems: 500 }) })

export interface ChatMessageView {
  role: 'user' | 'assistant'
  content: string
  html: string
  error?: string | null
  sql?: string | null
  steps?: AssistantStep[]
  check?: AssistantCheck | null
}

/** How one message of the chat is shown; model output goes through renderMarkdown only. */
export function messageView(m: {
  role: 'user' | 'assistant'
  content: string
  error?: string | null
  steps?: AssistantStep[]
  check?: AssistantCheck | null
}): ChatMessageView {
  if (m.role === 'user') return { role: 'user', content: m.content, html: '' }
  return {
    role: 'assistant',
    content: m.content,
    html: m.content ? renderMarkdown(m.content) : '',
    error: m.error || null,
    // The checked query is the one to insert (after a correction the answer holds two).
    sql: m.check?.sql ?? (m.content ? extractSql(m.content) : null),
    steps: m.steps ?? [],
    check: m.check ?? null,
  }
}

/** Appends the user's turn, merging it into a trailing user turn (a question whose answer failed). */
function withUserTurn(messages: unknown[], content: string): unknown[] {
  const last = messages[messages.length - 1] as Partial<ChatMessage> | undefined
  if (last?.role === 'user' && typeof last.content === 'string') {
    return [...messages.slice(0, -1), { role: 'user', content: `${last.content}\n\n${content}` }]
  }
  return [...messages, { role: 'user', content }]
}

async function renderTemplate(app: FastifyInstance, template: string, data: Record<string, unknown>) {
  return ((await app.view(template, data)) as unknown as string).trim()
}

const chat: FastifyPluginAsyncTypebox<ChatOptions> = async (app, { cache, renderIntervalMs = 50 }) => {
  app.post('/chat', { schema: { body: ChatBody } }, async (req, reply) => {
    const { mode, prompt } = req.body
    let messages: unknown[] = req.body.messages
    let promptText: string | null = null
    if (prompt?.kind === 'explain') {
      promptText = explainPrompt(prompt.query ?? '')
    } else if (prompt?.kind === 'interpret') {
      const result = prompt.result_id ? cache.get(prompt.result_id, req.user) : undefined
      if (!result) {
        throw new AppError(
          'NOT_FOUND',
          'Those results are no longer available (the server keeps the last 20 results for 30 minutes): run the query again, then press Interpret Results.',
        )
      }
      const table = rowsToMarkdownTable(result.columns, result.rows, INTERPRET_ROWS, result.rows.length)
      promptText = interpretPrompt(table, result.rows.length)
    } else if (prompt?.kind === 'changes') {
      promptText = await whatChangedText(app, prompt.run_id)
    }
    if (promptText !== null) messages = withUserTurn(messages, promptText)
    validateChat(messages, mode)

    const controller = abortOnDisconnect(reply)
    const sse = openSse(reply)
    await sse.send('start', JSON.stringify({ prompt: promptText }))

    let text = ''
    let error: string | null = null
    const steps: AssistantStep[] = []
    let check: AssistantCheck | null = null
    let sentLength = 0
    let lastRender = 0
    let timer: NodeJS.Timeout | undefined
    const flush = async () => {
      clearTimeout(timer)
      timer = undefined
      if (text.length === sentLength) return
      sentLength = text.length
      lastRender = performance.now()
      await sse.send('render', renderMarkdown(text))
    }
    try {
      for await (const chunk of app.ai.streamChat(
        messages as ChatMessage[],
        mode as ChatMode,
        controller.signal,
      )) {
        if (sse.closed) break
        if (chunk.type === 'error') {
          await flush()
          error = chunk.message
          await sse.send(
            'error',
            await renderTemplate(app, 'ide/_chat-error', { message: error, retryAt: chunk.retryAt }),
          )
          continue
        }
        if (chunk.type === 'step-start') {
          await flush()
          const step = { label: chunk.label, pending: true }
          await sse.send('step-start', await renderTemplate(app, 'ide/_chat-step', { step }))
          continue
        }
        if (chunk.type === 'step') {
          steps.push(chunk.step)
          await sse.send('step', await renderTemplate(app, 'ide/_chat-step', { step: chunk.step }))
          continue
        }
        if (chunk.type === 'wait') {
          await sse.send('wait', await renderTemplate(app, 'ide/_chat-wait', chunk))
          continue
        }
        if (chunk.type === 'check') {
          await flush()
          check = chunk.check
          await sse.send('check', await renderTemplate(app, 'ide/_chat-check', { check }))
          continue
        }
        if (chunk.type === 'turn') {
          if (text && !text.endsWith('\n\n')) text += '\n\n'
          continue
        }
        text += chunk.text
        const wait = renderIntervalMs - (performance.now() - lastRender)
        if (wait <= 0) await flush()
        else timer ??= setTimeout(() => flush().catch(() => {}), wait) // a closed socket ends the stream anyway
      }
    } catch (e) {
      req.log.error({ err: e }, 'the AI chat stream failed')
      error = 'The AI assistant failed unexpectedly: try again; if it persists, see the server log.'
      await sse.send('error', await renderTemplate(app, 'ide/_chat-error', { message: error }))
    } finally {
      clearTimeout(timer)
    }
    if (controller.signal.aborted || sse.closed) {
      sse.end()
      return
    }
    const html = await renderTemplate(app, 'ide/_chat-message', {
      msg: messageView({ role: 'assistant', content: text, error, steps, check }),
    })
    await sse.send('done', JSON.stringify({ content: text, error, steps, check, html }))
    sse.end()
  })

  app.post('/chat/render', { schema: { body: RenderBody } }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const messages = req.body.messages.map(messageView)
    return reply.render('ide/_chat-log', { messages })
  })
}

export default chat
