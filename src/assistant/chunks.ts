// The pieces of one assistant answer as the service streams them to the chat route.

/** One lookup the assistant made, as the chat shows it ("Looked up aws.ec2.instances — 7 columns"). */
export interface AssistantStep {
  tool: string
  /** The sentence shown in the chat. */
  label: string
  ok: boolean
}

/** The outcome of checking the answer's SQL against the metadata. */
export interface AssistantCheck {
  sql: string
  passed: boolean
  /** Warning sentences; empty when passed. */
  warnings: string[]
  /** True when the model was told what is wrong and is correcting itself. */
  retrying: boolean
  /** Set when the check itself could not run (the query is then shown unchecked). */
  unavailable?: string
}

export type AiChunk =
  | { type: 'text'; text: string }
  | { type: 'error'; message: string; retryAt?: number }
  /** A lookup is starting (`label` says what) — sent before the tool runs, so a slow lookup is visible. */
  | { type: 'step-start'; tool: string; label: string }
  | { type: 'step'; step: AssistantStep }
  /** The request is waiting: rate limited or overloaded; `retryAt` is the epoch ms of the next attempt. */
  | { type: 'wait'; message: string; retryAt: number; attempt: number }
  | { type: 'check'; check: AssistantCheck }
  /** Separates two model turns (after lookups or a correction), so the answer text stays readable. */
  | { type: 'turn' }
