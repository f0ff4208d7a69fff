// Where the project's files are, whether running from sources (tsx/tap) or from dist/.
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(start: string): string {
  let dir = start
  for (let i = 0; i < 6; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'views'))) return dir
    dir = resolve(dir, '..')
  }
  return process.cwd()
}

/** The project root: holds package.json, views/, public/ and scripts/. */
export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)))
