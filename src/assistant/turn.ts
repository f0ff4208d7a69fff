// One model turn over the streaming Messages API: text is yielded as it comes, tool_use blocks are
// assembled from their input_json_delta pieces, and rate limits / overloads are waited out visibly.
import type Anthropic from '@anthropic-ai/sdk'
import { APIUserAbortError } from '@anthropic-ai/sdk'
import type { ContentBlockParam, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages'
import type { AiChunk } from './chunks.js'
import { CUT_OFF, describeFailure, errorName, redact, waitableFailure } from './failure.js'

export interface TurnRequest {
  client: Anthropic
  model: string
  apiKey: string
  system: string
  conversation: MessageParam[]
  tools?: Tool[]
  maxTokens: number
  maxRetries: number
  retryMaxWaitMs: number
  signal: AbortSignal
  /** True when text was already shown earlier in this answer (an interruption, not a failed start). */
  streamedBefore: boolean
  log: (details: Record<string, unknown>, message: string) => void
}

export interface ToolCall {
  id: string
  name: string
  /** The parsed input, or undefined when the streamed JSON did not parse. */
  input: unknown
}

export interface TurnResult {
  /** The assistant's content blocks as they go back to the API in the next request. */
  blocks: ContentBlockParam[]
  text: string
  calls: ToolCall[]
  stopReason: string | null | undefined
}

type Building = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string }

/** Sleeps `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new APIUserAbortError())
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(new APIUserAbortError())
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19)

/** Streams one turn. Returns undefined after yielding the error chunk when the turn failed. */
export async function* streamTurn(req: TurnRequest): AsyncGenerator<AiChunk, TurnResult | undefined> {
  for (let attempt = 1; ; attempt++) {
    const building: Building[] = []
    let streamed = false
    let stopReason: string | null | undefined
    let finished = false
    try {
      const stream = await req.client.messages.create(
        {
          model: req.model,
          max_tokens: req.maxTokens,
          system: req.system,
          messages: req.conversation,
          ...(req.tools ? { tools: req.tools } : {}),
          stream: true,
        },
        { signal: req.signal },
      )
      for await (const event of stream) {
        if (event.type === 'content_block_start') {
          const block = event.content_block
          if (block.type === 'text') {
            building[event.index] = { type: 'text', text: block.text }
            if (block.text) {
              streamed = true
              yield { type: 'text', text: block.text }
            }
          } else if (block.type === 'tool_use') {
            building[event.index] = { type: 'tool_use', id: block.id, name: block.name, json: '' }
          }
        } else if (event.type === 'content_block_delta') {
          const target = building[event.index]
          if (event.delta.type === 'text_delta' && event.delta.text) {
            if (target?.type === 'text') target.text += event.delta.text
            else building[event.index] = { type: 'text', text: event.delta.text }
            streamed = true
            yield { type: 'text', text: event.delta.text }
          } else if (event.delta.type === 'input_json_delta' && target?.type === 'tool_use') {
            target.json += event.delta.partial_json
          }
        } else if (event.type === 'message_delta') {
          stopReason = event.delta.stop_reason
        } else if (event.type === 'message_stop') {
          finished = true
        }
      }
    } catch (e) {
      if (req.signal.aborted || e instanceof APIUserAbortError) throw new APIUserAbortError()
      const wait = streamed || req.streamedBefore ? undefined : waitableFailure(e)
      if (wait && attempt <= Math.min(req.maxRetries, wait.maxRetries ?? req.maxRetries)) {
        const waitMs = wait.waitS * 1000
        if (waitMs <= req.retryMaxWaitMs) {
          const retryAt = Date.now() + waitMs
          req.log(
            { phase: 'wait', error: errorName(e), waitS: wait.waitS, attempt },
            'the AI assistant waits to retry',
          )
          yield {
            type: 'wait',
            message: `${wait.what}. Retrying in ${wait.waitS} s (at ${clock(retryAt)} UTC, attempt ${attempt + 1} of ${req.maxRetries + 1}).`,
            retryAt,
            attempt,
          }
          await sleep(waitMs, req.signal)
          continue
        }
        const retryAt = Date.now() + waitMs
        yield {
          type: 'error',
          message: `${wait.what} and asks to wait ${wait.waitS} s, longer than the assistant waits on its own (${Math.round(req.retryMaxWaitMs / 1000)} s): ask again after ${clock(retryAt)} UTC.`,
          retryAt,
        }
        return undefined
      }
      const open = building.find((b) => b?.type === 'tool_use')
      const failure = describeFailure(e, { model: req.model, streamed: streamed || req.streamedBefore })
      req.log(
        {
          phase: streamed ? 'stream' : 'request',
          error: errorName(e),
          status: (e as { status?: number }).status,
          type: (e as { type?: string }).type,
        },
        'the AI assistant request failed',
      )
      const during =
        open?.type === 'tool_use' && !stopReason ? ` (while preparing the lookup ${open.name})` : ''
      yield { type: 'error', message: redact(`${failure}${during}`, req.apiKey) }
      return undefined
    }
    // The SDK's stream ends quietly (no throw) when its signal aborts.
    if (req.signal.aborted) throw new APIUserAbortError()
    if (!finished) {
      const open = building.find((b) => b?.type === 'tool_use')
      req.log({ phase: 'stream', error: 'incomplete' }, 'the AI answer stream ended early')
      const during = open?.type === 'tool_use' ? ` It stopped while preparing the lookup ${open.name}.` : ''
      yield { type: 'error', message: `${CUT_OFF}${during}` }
      return undefined
    }
    return assemble(building, stopReason)
  }
}

function assemble(building: Building[], stopReason: string | null | undefined): TurnResult {
  const blocks: ContentBlockParam[] = []
  const calls: ToolCall[] = []
  let text = ''
  for (const b of building) {
    if (!b) continue
    if (b.type === 'text') {
      text += b.text
      // The API rejects empty text blocks in a request.
      if (b.text) blocks.push({ type: 'text', text: b.text })
      continue
    }
    let input: unknown
    try {
      input = b.json.trim() === '' ? {} : JSON.parse(b.json)
    } catch {
      input = undefined
    }
    const echoed = input && typeof input === 'object' && !Array.isArray(input) ? input : {}
    blocks.push({ type: 'tool_use', id: b.id, name: b.name, input: echoed })
    calls.push({ id: b.id, name: b.name, input })
  }
  return { blocks, text, calls, stopReason }
}
