// Anthropic failures as sentences for the chat: what failed and what to do. Never the key.
import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk'

export const KEY_HINT = 'check the anthropic-api-key secret'

export const CUT_OFF =
  'The answer was cut off: the connection to Anthropic closed before it finished. Try again.'

export function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e
}

/** Never let the key through, even if an upstream message were to echo it. */
export function redact(text: string, apiKey: string): string {
  return apiKey.length >= 8 ? text.split(apiKey).join('[redacted]') : text
}

/** Retry-after in whole seconds (seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
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

/**
 * A failure worth waiting out (a rate limit or an overload, before any text streamed): what
 * happened and how long the API asks to wait, in seconds (a default when it does not say).
 */
export function waitableFailure(
  e: unknown,
): { what: string; waitS: number; told: boolean; maxRetries?: number } | undefined {
  if (!(e instanceof APIError)) return undefined
  const told = retryAfterSeconds(e.headers)
  if (e.status === 429 || e.type === 'rate_limit_error') {
    return {
      what: 'The AI assistant is rate limited by Anthropic',
      waitS: told ?? 10,
      told: told !== undefined,
    }
  }
  if (e.status === 529 || e.type === 'overloaded_error') {
    return { what: 'Anthropic is overloaded right now', waitS: told ?? 5, told: told !== undefined }
  }
  if (e.status !== undefined && e.status >= 500) {
    // An internal error is retried once (as the SDK used to): a second one is likely to persist.
    return {
      what: `Anthropic had an internal error (HTTP ${e.status})`,
      waitS: told ?? 1,
      told: told !== undefined,
      maxRetries: 1,
    }
  }
  return undefined
}
