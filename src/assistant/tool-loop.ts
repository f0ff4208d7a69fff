// The grounded answer: model turns and lookups until the model ends its turn, bounded by
// MAX_TOOL_CALLS and a time limit; then the answer's SQL is checked, and the model is told once
// what is wrong so it may correct itself.
import type Anthropic from '@anthropic-ai/sdk'
import { APIUserAbortError } from '@anthropic-ai/sdk'
import type { MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages'
import { extractSql } from '../services/extract-sql.js'
import type { AiChunk, AssistantCheck } from './chunks.js'
import type { AssistantMetadata } from './metadata.js'
import { MAX_TOOL_CALLS, runTool, TOOLS, toolStartLabel } from './tools.js'
import { streamTurn } from './turn.js'

export interface AnswerLimits {
  maxTokens: number
  maxRetries: number
  retryMaxWaitMs: number
  answerTimeoutMs: number
  toolTimeoutMs: number
}

export interface AnswerRequest {
  client: Anthropic
  model: string
  apiKey: string
  system: string
  conversation: MessageParam[]
  /** Set in Write Query mode: enables the lookup tools and the check. */
  metadata?: AssistantMetadata
  limits: AnswerLimits
  signal?: AbortSignal
  log: (details: Record<string, unknown>, message: string) => void
}

/** Runs the answer. Throws APIUserAbortError only when the caller's signal aborted. */
export async function* runAnswer(req: AnswerRequest): AsyncGenerator<AiChunk> {
  const { limits, metadata } = req
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), limits.answerTimeoutMs)
  const signal = req.signal ? AbortSignal.any([req.signal, deadline.signal]) : deadline.signal
  const conversation = [...req.conversation]
  let calls = 0
  let corrected = false
  let streamedBefore = false
  try {
    for (let turn = 0; ; turn++) {
      if (turn > 0) yield { type: 'turn' }
      const result = yield* streamTurn({
        ...req,
        conversation,
        tools: metadata ? TOOLS : undefined,
        maxTokens: limits.maxTokens,
        maxRetries: limits.maxRetries,
        retryMaxWaitMs: limits.retryMaxWaitMs,
        signal,
        streamedBefore,
      })
      if (!result) return
      if (result.text) streamedBefore = true
      if (result.stopReason === 'tool_use' && result.calls.length > 0) {
        conversation.push({ role: 'assistant', content: result.blocks })
        const answers: ToolResultBlockParam[] = []
        for (const call of result.calls) {
          if (calls >= MAX_TOOL_CALLS) {
            yield {
              type: 'error',
              message: `The assistant stopped after ${MAX_TOOL_CALLS} lookups without finishing its answer: ask a narrower question (name the provider, service and resource) or look the resource up in the explorer.`,
            }
            return
          }
          calls++
          yield { type: 'step-start', tool: call.name, label: toolStartLabel(call.name, call.input) }
          const remaining = Math.max(1000, limits.toolTimeoutMs)
          const outcome = metadata
            ? await runTool(metadata, call.name, call.input, { signal, timeoutMs: remaining })
            : null
          if (!outcome) return
          yield { type: 'step', step: outcome.step }
          answers.push({
            type: 'tool_result',
            tool_use_id: call.id,
            content: outcome.content,
            ...(outcome.isError ? { is_error: true } : {}),
          })
        }
        conversation.push({ role: 'user', content: answers })
        continue
      }
      if (result.stopReason === 'max_tokens') {
        yield {
          type: 'error',
          message: `The answer reached the length limit (${limits.maxTokens} tokens) and stops here: ask for a shorter answer or say "continue".`,
        }
        return
      }
      if (result.stopReason === 'refusal') {
        yield { type: 'error', message: 'The assistant declined to answer this request.' }
        return
      }
      if (!metadata) return
      const sql = extractSql(result.text)
      if (!sql) return
      const check = await checkSql(metadata, sql, signal, limits.toolTimeoutMs)
      if (!check.passed && !check.unavailable && !corrected) {
        corrected = true
        yield { type: 'check', check: { ...check, retrying: true } }
        conversation.push({ role: 'assistant', content: result.blocks })
        conversation.push({ role: 'user', content: correction(check) })
        continue
      }
      yield { type: 'check', check }
      return
    }
  } catch (e) {
    if (req.signal?.aborted) throw new APIUserAbortError()
    if (deadline.signal.aborted) {
      req.log({ phase: 'deadline', calls }, 'the AI answer reached its time limit')
      yield {
        type: 'error',
        message: `The answer took longer than ${Math.round(limits.answerTimeoutMs / 1000)} s (AI_ANSWER_TIMEOUT_S) and was stopped: try again or ask a narrower question.`,
      }
      return
    }
    throw e
  } finally {
    clearTimeout(timer)
  }
}

async function checkSql(
  metadata: AssistantMetadata,
  sql: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<AssistantCheck> {
  try {
    const all = await metadata.checkStatement(sql, { signal, timeoutMs })
    // `unchecked`: the metadata could not be looked up — that is not the model's mistake to correct.
    const warnings = all.filter((w) => w.kind !== 'unchecked')
    const unchecked = all.filter((w) => w.kind === 'unchecked')
    if (warnings.length === 0 && unchecked.length > 0) {
      return {
        sql,
        passed: false,
        warnings: [],
        retrying: false,
        unavailable: unchecked.map((w) => w.message).join(' '),
      }
    }
    return { sql, passed: warnings.length === 0, warnings: warnings.map((w) => w.message), retrying: false }
  } catch (e) {
    if (signal.aborted) throw e
    const reason = e instanceof Error && e.message ? e.message.slice(0, 300) : 'the check failed'
    return { sql, passed: false, warnings: [], retrying: false, unavailable: reason }
  }
}

function correction(check: AssistantCheck): string {
  return [
    'The app checked the query of your answer against the provider metadata and found:',
    ...check.warnings.map((w) => `- ${w}`),
    'Correct the query (look things up if you need to) and give the corrected query in a ```sql block.',
  ].join('\n')
}
