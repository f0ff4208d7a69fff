// The providers the Add Mapping dialog suggests and the environment variables each one reads by
// default (StackQL's provider auth defaults). Suggestions only: any provider / variable name is accepted.
export const PROVIDER_ENV_VARS: Record<string, string[]> = {
  aws: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'],
  azure: ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET'],
  google: ['GOOGLE_CREDENTIALS'],
  databricks_account: ['DATABRICKS_ACCOUNT_ID', 'DATABRICKS_CLIENT_ID', 'DATABRICKS_CLIENT_SECRET'],
  databricks_workspace: ['DATABRICKS_ACCOUNT_ID', 'DATABRICKS_CLIENT_ID', 'DATABRICKS_CLIENT_SECRET'],
  github: ['STACKQL_GITHUB_USERNAME', 'STACKQL_GITHUB_PASSWORD'],
  cloudflare: ['CLOUDFLARE_API_TOKEN'],
  okta: ['OKTA_API_TOKEN'],
}

export const KNOWN_PROVIDERS = Object.keys(PROVIDER_ENV_VARS)

/** Every suggested variable once, for the list shown before a provider is chosen. */
export const ALL_ENV_VARS = [...new Set(Object.values(PROVIDER_ENV_VARS).flat())]
