// Tool use for the Anthropic stand-in, as the Messages API does it: `tools` and conversation-shape
// validation (every tool_use answered by a tool_result with its id in the next user turn), and
// streamed tool_use content blocks (input_json_delta pieces, stop_reason "tool_use").
import { randomBytes } from 'node:crypto'

export interface ToolCallScript {
  name: string
  /** The input object; streamed as JSON in pieces. */
  input?: unknown
  /** Raw partial_json text to stream instead of `input` (for malformed input). */
  rawJson?: string
}

/** Streams an optional text block, then tool_use blocks, then stop_reason "tool_use". */
export interface ToolUseReply {
  kind: 'tool_use'
  text?: string
  calls: ToolCallScript[]
  /**
   * Cut the stream inside the last tool_use block after its first JSON piece: `destroy` the socket,
   * `end` the response without the closing events, or send an `error` event (overloaded_error).
   */
  cut?: 'destroy' | 'end' | 'error'
}

export const toolUseId = () => `toolu_${randomBytes(12).toString('base64url').slice(0, 24)}`

interface Block {
  type?: unknown
  id?: unknown
  tool_use_id?: unknown
  text?: unknown
  name?: unknown
  input?: unknown
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/

/** The 400 message the real API gives for a bad `tools` list or conversation shape, or undefined. */
export function toolProblem(body: Record<string, unknown>): string | undefined {
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'tools: Input should be a valid list'
    const seen = new Set<string>()
    for (const [i, tool] of (body.tools as Record<string, unknown>[]).entries()) {
      if (typeof tool?.name !== 'string' || !TOOL_NAME.test(tool.name)) {
        return `tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`
      }
      if (seen.has(tool.name)) return 'tools: Tool names must be unique.'
      seen.add(tool.name)
      const schema = tool.input_schema as Record<string, unknown> | undefined
      if (schema?.type !== 'object') return `tools.${i}.custom.input_schema.type: Input should be 'object'`
    }
  }
  const messages = body.messages as { role: string; content: unknown }[]
  const blocksOf = (m: { content: unknown } | undefined): Block[] =>
    m && Array.isArray(m.content) ? (m.content as Block[]) : []
  for (const [i, m] of messages.entries()) {
    for (const [j, b] of blocksOf(m).entries()) {
      if (b?.type === 'text' && (typeof b.text !== 'string' || b.text === '')) {
        return 'messages: text content blocks must be non-empty'
      }
      if (b?.type === 'tool_use') {
        if (m.role !== 'assistant')
          return `messages.${i}.content.${j}: tool_use blocks are only allowed in assistant messages`
        if (
          typeof b.id !== 'string' ||
          typeof b.name !== 'string' ||
          !b.input ||
          typeof b.input !== 'object'
        ) {
          return `messages.${i}.content.${j}.tool_use: id, name and an object input are required`
        }
      }
      if (b?.type === 'tool_result' && m.role !== 'user') {
        return `messages.${i}.content.${j}: tool_result blocks are only allowed in user messages`
      }
    }
    if (m.role === 'assistant') {
      const uses = blocksOf(m)
        .filter((b) => b?.type === 'tool_use')
        .map((b) => b.id as string)
      if (uses.length === 0) continue
      const next = messages[i + 1]
      const answered = new Set(
        blocksOf(next)
          .filter((b) => b?.type === 'tool_result')
          .map((b) => b.tool_use_id),
      )
      const missing = uses.filter((id) => !answered.has(id))
      if (next?.role !== 'user' || missing.length > 0) {
        return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${(missing.length ? missing : uses).join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`
      }
    }
    if (m.role === 'user') {
      const results = blocksOf(m).filter((b) => b?.type === 'tool_result')
      if (results.length === 0) continue
      const prev = messages[i - 1]
      const ids = new Set(
        blocksOf(prev?.role === 'assistant' ? prev : undefined)
          .filter((b) => b?.type === 'tool_use')
          .map((b) => b.id),
      )
      const unexpected = results.filter((b) => !ids.has(b.tool_use_id)).map((b) => String(b.tool_use_id))
      if (unexpected.length > 0) {
        return `messages.${i}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`
      }
      // tool_result blocks must come first in the user turn.
      const firstOther = blocksOf(m).findIndex((b) => b?.type !== 'tool_result')
      const lastResult = blocksOf(m).findLastIndex((b) => b?.type === 'tool_result')
      if (firstOther >= 0 && firstOther < lastResult) {
        return `messages.${i}: tool_result blocks must come first in the content of a user message.`
      }
    }
  }
  if (messages[messages.length - 1]?.role !== 'user') {
    return 'This model does not support assistant message prefill. The conversation must end with a user message.'
  }
  return undefined
}

/** Splits JSON text into the pieces streamed as input_json_delta (a few characters each, as the API does). */
export function jsonPieces(json: string, size = 7): string[] {
  const out: string[] = []
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size))
  return out
}

export type Send = (event: string, data: unknown) => void

/**
 * Writes the content blocks of a tool_use reply after message_start. Returns 'cut' when the script
 * asks for a cut (the caller then destroys, ends or has sent the error event), else the stop reason.
 */
export function writeToolUse(
  send: Send,
  reply: ToolUseReply,
  recordId: (id: string) => void,
): 'cut' | 'tool_use' {
  let index = 0
  if (reply.text) {
    send('content_block_start', {
      type: 'content_block_start',
      index,
      content_block: { type: 'text', text: '' },
    })
    send('content_block_delta', {
      type: 'content_block_delta',
      index,
      delta: { type: 'text_delta', text: reply.text },
    })
    send('content_block_stop', { type: 'content_block_stop', index })
    index++
  }
  for (const [n, call] of reply.calls.entries()) {
    const id = toolUseId()
    recordId(id)
    send('content_block_start', {
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id, name: call.name, input: {} },
    })
    const pieces = jsonPieces(call.rawJson ?? JSON.stringify(call.input ?? {}))
    const last = n === reply.calls.length - 1
    if (reply.cut && last) {
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: pieces[0] ?? '' },
      })
      if (reply.cut === 'error') {
        send('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
      }
      return 'cut'
    }
    for (const piece of pieces) {
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: piece },
      })
    }
    send('content_block_stop', { type: 'content_block_stop', index })
    index++
  }
  return 'tool_use'
}
