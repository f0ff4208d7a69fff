// The signed-in user's own identity from the workspace: GET /api/2.0/preview/scim/v2/Me with the
// token the Databricks Apps proxy forwards (X-Forwarded-Access-Token, user authorization with the
// iam.current-user:read scope). The token is used for this one request: never stored or logged.
import { Agent, request } from 'undici'
import { AppError } from '../errors.js'
import { fromJson } from './client.js'

/** The fields of the SCIM User we use (docs: "Me", returns the User object). */
export interface ScimMe {
  userName: string
  emails: string[]
  groups: string[]
}

export interface ScimOptions {
  timeoutMs?: number
}

const agents = new Map<number, Agent>()
function agentFor(timeoutMs: number): Agent {
  let agent = agents.get(timeoutMs)
  if (!agent) {
    agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    agents.set(timeoutMs, agent)
  }
  return agent
}

/**
 * Reads the caller's userName, e-mails and group display names. Throws DATABRICKS_AUTH when the
 * workspace refuses the token (forged, expired, or without the scope) and DATABRICKS_UNAVAILABLE
 * when it cannot be reached or answers something else: the caller fails closed on either.
 */
export async function fetchScimMe(
  host: string,
  userToken: string,
  options: ScimOptions = {},
): Promise<ScimMe> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const base = host.replace(/\/+$/, '')
  let status: number
  let text: string
  try {
    const res = await request(`${base}/api/2.0/preview/scim/v2/Me?attributes=userName,emails,groups`, {
      method: 'GET',
      dispatcher: agentFor(timeoutMs),
      headers: {
        authorization: `Bearer ${userToken}`,
        accept: 'application/scim+json, application/json',
        'user-agent': 'stackql-cloud-inventory',
      },
      signal: AbortSignal.timeout(timeoutMs),
    })
    status = res.statusCode
    text = await res.body.text()
  } catch (cause) {
    throw new AppError(
      'DATABRICKS_UNAVAILABLE',
      `Your group membership could not be read: the workspace at ${base} did not answer (${(cause as Error).name}).`,
      { cause },
    )
  }
  if (status === 401 || status === 403) {
    throw new AppError(
      'DATABRICKS_AUTH',
      `Your group membership could not be read: the workspace refused your forwarded token (HTTP ${status}). Check that user authorization is enabled for the app with the iam.current-user:read scope.`,
    )
  }
  if (status >= 300) {
    throw new AppError(
      'DATABRICKS_UNAVAILABLE',
      `Your group membership could not be read: the workspace answered HTTP ${status} to SCIM Me.`,
    )
  }
  let body: Record<string, unknown>
  try {
    body = fromJson(text) as Record<string, unknown>
  } catch {
    throw new AppError(
      'DATABRICKS_UNAVAILABLE',
      'Your group membership could not be read: SCIM Me did not answer JSON.',
    )
  }
  const list = (v: unknown, field: string): string[] =>
    Array.isArray(v)
      ? v.flatMap((item) => {
          const s = (item as Record<string, unknown> | null)?.[field]
          return typeof s === 'string' && s !== '' ? [s] : []
        })
      : []
  return {
    userName: typeof body.userName === 'string' ? body.userName : '',
    emails: list(body.emails, 'value'),
    groups: list(body.groups, 'display'),
  }
}
