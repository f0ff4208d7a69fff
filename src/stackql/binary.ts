// Finds or downloads the stackql executable and checks it runs (reference/stackql.md §1).
// Order: STACKQL_BIN -> `stackql` on PATH -> copy in the download dir -> download. Memoised per process.
import { execFile } from 'node:child_process'
import { constants, createWriteStream } from 'node:fs'
import { access, chmod, mkdir, rename, rm, stat } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream } from 'node:stream/web'
import { fetch } from 'undici'
import yauzl from 'yauzl'
import type { Config } from '../config.js'
import { readOwnEnvironment } from '../config.js'
import { AppError } from '../errors.js'
import type { EngineLogger } from './logger.js'

export interface StackqlBinary {
  path: string
  /** e.g. v0.5.612 */
  version: string
  /** short commit sha of the build */
  sha: string
}

export type StackqlBinaryConfig = Pick<Config['stackql'], 'bin' | 'downloadDir' | 'downloadBaseUrl'>

export interface BinaryManagerOptions {
  /** PATH to search for `stackql`; defaults to the server's own PATH. '' searches nothing. */
  searchPath?: string
  platform?: NodeJS.Platform
  arch?: string
  logger?: EngineLogger
  /** Download time limit. */
  downloadTimeoutMs?: number
}

const LINUX_WINDOWS_BASE = 'https://releases.stackql.io/stackql/latest'
const DARWIN_BASE = 'https://storage.googleapis.com/stackql-public-releases/latest'

/** The archive to download for this OS/arch (reference/stackql.md §1). */
export function downloadUrl(platform: NodeJS.Platform, arch: string, baseUrl?: string): string {
  let base: string
  let file: string
  if (platform === 'linux' && (arch === 'x64' || arch === 'arm64')) {
    base = LINUX_WINDOWS_BASE
    file = `stackql_linux_${arch === 'x64' ? 'amd64' : 'arm64'}.zip`
  } else if (platform === 'win32' && arch === 'x64') {
    base = LINUX_WINDOWS_BASE
    file = 'stackql_windows_amd64.zip'
  } else if (platform === 'darwin') {
    base = DARWIN_BASE
    file = 'stackql_darwin_multiarch.pkg'
  } else {
    throw new AppError(
      'STACKQL_BINARY',
      `There is no StackQL download for ${platform}/${arch}. Install stackql yourself and set STACKQL_BIN to its path.`,
    )
  }
  return `${(baseUrl ?? base).replace(/\/+$/, '')}/${file}`
}

/** Parses `stackql --version`: first line `stackql v<semver> <platform> (<sha7>)`. */
export function parseVersion(output: string): { version: string; sha: string } | undefined {
  const tokens = (output.split('\n')[0] ?? '').trim().split(/\s+/)
  if (tokens[0] !== 'stackql' || !tokens[1] || !tokens[3]) return undefined
  return { version: tokens[1], sha: tokens[3].replace(/^\(|\)$/g, '') }
}

export class StackqlBinaryManager {
  private pending?: Promise<StackqlBinary>
  private readonly platform: NodeJS.Platform
  private readonly arch: string

  constructor(
    private readonly cfg: StackqlBinaryConfig,
    private readonly opts: BinaryManagerOptions = {},
  ) {
    this.platform = opts.platform ?? process.platform
    this.arch = opts.arch ?? process.arch
  }

  /** Resolves the binary once; concurrent callers share the attempt; a failure is retried next call. */
  ensure(): Promise<StackqlBinary> {
    if (!this.pending) {
      this.pending = this.resolve()
      this.pending.catch(() => {
        this.pending = undefined
      })
    }
    return this.pending
  }

  private get exeName(): string {
    return this.platform === 'win32' ? 'stackql.exe' : 'stackql'
  }

  /** Where a downloaded copy lives (the macOS .pkg expands to <dir>/stackql/Payload/stackql). */
  get downloadedPath(): string {
    return this.platform === 'darwin'
      ? join(this.cfg.downloadDir, 'stackql', 'Payload', 'stackql')
      : join(this.cfg.downloadDir, this.exeName)
  }

  private async resolve(): Promise<StackqlBinary> {
    const log = this.opts.logger
    if (this.cfg.bin) {
      try {
        return await verify(this.cfg.bin)
      } catch (e) {
        throw new AppError(
          'STACKQL_BINARY',
          `STACKQL_BIN points at ${this.cfg.bin}, which is not a working stackql binary (${reason(e)}). Fix the path or unset STACKQL_BIN to download StackQL.`,
          { cause: e },
        )
      }
    }
    const onPath = await this.findOnPath()
    if (onPath) {
      try {
        return await verify(onPath)
      } catch (e) {
        log?.warn(
          { path: onPath, reason: reason(e) },
          'stackql on PATH does not run; using the download directory',
        )
      }
    }
    const existing = this.downloadedPath
    if (await isExecutable(existing)) {
      try {
        return await verify(existing)
      } catch (e) {
        log?.warn({ path: existing, reason: reason(e) }, 'downloaded stackql does not run; downloading again')
      }
    }
    const url = downloadUrl(this.platform, this.arch, this.cfg.downloadBaseUrl)
    try {
      await this.download(url)
      const found = await verify(existing)
      log?.info({ path: existing, version: found.version, sha: found.sha }, 'stackql downloaded')
      return found
    } catch (e) {
      throw new AppError(
        'STACKQL_BINARY',
        `Could not get the StackQL binary (${reason(e)}). Check that the download directory ${this.cfg.downloadDir} exists and is writable (STACKQL_DOWNLOAD_DIR), that this server can reach ${url} (network, proxy), or set STACKQL_BIN to the path of a stackql executable.`,
        { cause: e },
      )
    }
  }

  private async findOnPath(): Promise<string | undefined> {
    const searchPath = this.opts.searchPath ?? readOwnEnvironment('PATH') ?? ''
    for (const dir of searchPath.split(delimiter)) {
      if (!dir) continue
      const candidate = join(dir, this.exeName)
      if (await isExecutable(candidate)) return candidate
    }
    return undefined
  }

  /** Downloads into a temporary name, unpacks, and renames into place so no half-written binary is ever used. */
  private async download(url: string): Promise<void> {
    const dir = this.cfg.downloadDir
    await mkdir(dir, { recursive: true })
    await access(dir, constants.W_OK)
    const tmp = join(dir, `.download-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`)
    const archive = `${tmp}${url.endsWith('.pkg') ? '.pkg' : '.zip'}`
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.opts.downloadTimeoutMs ?? 300_000) })
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} from ${url}`)
      await pipeline(Readable.fromWeb(res.body as ReadableStream), createWriteStream(archive))
      if (url.endsWith('.pkg')) {
        await rm(join(dir, 'stackql'), { recursive: true, force: true })
        await run('pkgutil', ['--expand-full', archive, join(dir, 'stackql')]).catch((e) => {
          throw new Error(`cannot expand the macOS package with pkgutil (${reason(e)})`)
        })
      } else {
        await unzipEntry(archive, this.exeName, tmp)
        await chmod(tmp, 0o755)
        await rename(tmp, this.downloadedPath)
      }
      await chmod(this.downloadedPath, 0o755)
    } finally {
      await rm(archive, { force: true })
      await rm(tmp, { force: true })
    }
  }
}

const managers = new Map<string, StackqlBinaryManager>()

/** The process-wide binary for this configuration (resolved once; retried after a failure). */
export function ensureStackqlBinary(
  cfg: StackqlBinaryConfig,
  opts: BinaryManagerOptions = {},
): Promise<StackqlBinary> {
  const key = JSON.stringify([cfg.bin, cfg.downloadDir, cfg.downloadBaseUrl, opts.searchPath])
  let manager = managers.get(key)
  if (!manager) {
    manager = new StackqlBinaryManager(cfg, opts)
    managers.set(key, manager)
  }
  return manager.ensure()
}

/** Runs `<path> --version` and parses it; throws when it does not run or prints something else. */
export async function verify(path: string): Promise<StackqlBinary> {
  const out = await run(path, ['--version'])
  const parsed = parseVersion(out)
  if (!parsed) throw new Error(`\`${path} --version\` printed no StackQL version`)
  return { path, ...parsed }
}

function run(cmd: string, args: string[]): Promise<string> {
  const env: Record<string, string> = {}
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT']) {
    const v = readOwnEnvironment(name)
    if (v !== undefined) env[name] = v
  }
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env, timeout: 30_000, maxBuffer: 1024 * 1024, windowsHide: true },
      (err, stdout) => {
        if (err) reject(err)
        else resolve(stdout)
      },
    )
  })
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const s = await stat(path)
    if (!s.isFile()) return false
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Extracts the entry whose base name is `name` from the zip at `zipPath` into `dest`. */
function unzipEntry(zipPath: string, name: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(new Error(`the downloaded archive is not a valid zip (${reason(err)})`))
      let found = false
      zip.on('error', (e) => reject(new Error(`the downloaded archive is corrupt (${reason(e)})`)))
      zip.on('end', () => {
        if (!found) reject(new Error(`the downloaded archive holds no ${name}`))
      })
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.split('/').pop() !== name || entry.fileName.endsWith('/')) return zip.readEntry()
        found = true
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new Error(`the downloaded archive is corrupt (${reason(e)})`))
          pipeline(stream, createWriteStream(dest, { mode: 0o755 })).then(
            () => {
              zip.close()
              resolve()
            },
            (pe) => reject(new Error(`cannot unpack ${name} (${reason(pe)})`)),
          )
        })
      })
      zip.readEntry()
    })
  })
}

function reason(e: unknown): string {
  if (e === null || e === undefined) return 'unknown error'
  const err = e as NodeJS.ErrnoException
  if (err.code === 'EACCES' || err.code === 'EROFS' || err.code === 'ENOTDIR' || err.code === 'EPERM') {
    return `${err.code}: ${err.message}`
  }
  return err.message ?? String(e)
}
