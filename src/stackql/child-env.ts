// What a StackQL child process is started with besides its statement: pystackql's default exec
// flags and the minimal, non-secret base environment (credentials are added per run by the runner).
import { readOwnEnvironment } from '../config.js'

/** pystackql's default exec flags. */
export const DEFAULT_FLAGS = [
  '--execution.concurrency.limit',
  '-1',
  '--dataflow.dependency.max',
  '50',
  '--dataflow.components.max',
  '50',
  '--http.response.maxResults',
  '-1',
  '--http.response.pageLimit',
  '20',
  '--indirect.depth.max',
  '5',
  '--apirequesttimeout',
  '45',
]

/** The non-secret variables a child needs to run (locale, temp dir, TLS roots, proxies). */
export const BASE_ENV_NAMES = [
  'PATH',
  'HOME',
  'TMPDIR',
  'TZ',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'LC_NUMERIC',
  'LC_TIME',
  'LC_COLLATE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  // Windows needs these to start a process at all.
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'USERPROFILE',
]

export function pickBaseEnvironment(
  read: (name: string) => string | undefined = readOwnEnvironment,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of BASE_ENV_NAMES) {
    const v = read(name)
    if (v !== undefined) env[name] = v
  }
  return env
}
