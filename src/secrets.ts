// The contract between secret consumers (query service, AI service, Provider Config page) and the
// secret store (Databricks Secrets, src/databricks/secrets.ts). Values are returned to the caller
// and never stored, logged or cached by anything implementing this.

export interface SecretsReader {
  /** The decoded secret value. Throws AppError SECRET_NOT_FOUND / SECRET_FORBIDDEN naming scope and key. */
  getSecret(scope: string, key: string): Promise<string>
  /** Whether the secret exists (false on 404; other failures throw). Never returns the value. */
  secretExists(scope: string, key: string): Promise<boolean>
}
