// Databricks Secrets as the app's SecretsReader: values are decoded and handed to the caller,
// never cached or logged here.
import { AppError, isAppError } from '../errors.js'
import type { SecretsReader } from '../secrets.js'
import type { DatabricksClient } from './client.js'

interface GetSecretResponse {
  key?: string
  value?: string
}

export class DatabricksSecrets implements SecretsReader {
  constructor(private readonly client: DatabricksClient) {}

  async getSecret(scope: string, key: string): Promise<string> {
    let res: GetSecretResponse
    try {
      res = await this.client.get<GetSecretResponse>('/api/2.0/secrets/get', { scope, key })
    } catch (e) {
      throw secretError(e, scope, key)
    }
    if (typeof res.value !== 'string') {
      throw new AppError(
        'DATABRICKS_BAD_REQUEST',
        `Databricks returned no value for secret ${scope}/${key}. Check the secret with: databricks secrets get-secret ${scope} ${key}`,
      )
    }
    return Buffer.from(res.value, 'base64').toString('utf8')
  }

  /** Lists the scope's keys (metadata only) rather than fetching the value just to drop it. */
  async secretExists(scope: string, key: string): Promise<boolean> {
    try {
      const res = await this.client.get<{ secrets?: { key: string }[] }>('/api/2.0/secrets/list', { scope })
      return (res.secrets ?? []).some((s) => s.key === key)
    } catch (e) {
      if (isAppError(e) && e.code === 'DATABRICKS_NOT_FOUND') return false
      throw secretError(e, scope, key)
    }
  }
}

/** Turns client errors into secret errors that name the scope and key (never a value). */
function secretError(e: unknown, scope: string, key: string): unknown {
  if (!isAppError(e)) return e
  if (e.code === 'DATABRICKS_NOT_FOUND') {
    return new AppError(
      'SECRET_NOT_FOUND',
      `Secret ${scope}/${key} was not found in Databricks. Create it (databricks secrets put-secret ${scope} ${key}) or fix the mapping on the Provider Config page.`,
      { cause: e, details: { scope, key } },
    )
  }
  if (e.code === 'DATABRICKS_PERMISSION') {
    return new AppError(
      'SECRET_FORBIDDEN',
      `The app may not read secret ${scope}/${key} (scope "${scope}"). ${e.message}`,
      { cause: e, details: { scope, key } },
    )
  }
  return e
}
