import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import {
  downloadUrl,
  ensureStackqlBinary,
  parseVersion,
  type StackqlBinaryConfig,
  StackqlBinaryManager,
} from '../src/stackql/binary.js'
import { createStackqlRunner } from '../src/stackql/runner.js'
import { rejection } from './helpers/errors.js'
import {
  captureLogger,
  serveFiles,
  standinWrapper,
  tempDir,
  writeExecutable,
  zipOf,
} from './helpers/stackql.js'

const ARCHIVE = `/latest/${downloadUrl(process.platform, process.arch).split('/').pop()}`
const EXE = process.platform === 'win32' ? 'stackql.exe' : 'stackql'

/** Config that can only download: no STACKQL_BIN and nothing on PATH. */
function downloadOnly(dir: string, baseUrl: string): [StackqlBinaryConfig, { searchPath: string }] {
  return [{ downloadDir: dir, downloadBaseUrl: baseUrl }, { searchPath: '' }]
}

/** A pattern matching text that contains every one of `parts` (in any order). */
function mentionsAll(...parts: string[]): RegExp {
  return new RegExp(parts.map((p) => `(?=[\\s\\S]*${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')})`).join(''))
}

/** The one STACKQL_BINARY error: names the download directory and what to check. */
const binaryError = (dir: string) => ({
  code: 'STACKQL_BINARY',
  message: mentionsAll(dir, 'writable', 'network', 'STACKQL_BIN'),
})

t.test('builds the download URL per OS and architecture, with an overridable base', async (t) => {
  t.equal(downloadUrl('linux', 'x64'), 'https://releases.stackql.io/stackql/latest/stackql_linux_amd64.zip')
  t.equal(downloadUrl('linux', 'arm64'), 'https://releases.stackql.io/stackql/latest/stackql_linux_arm64.zip')
  t.equal(downloadUrl('win32', 'x64'), 'https://releases.stackql.io/stackql/latest/stackql_windows_amd64.zip')
  t.equal(
    downloadUrl('darwin', 'arm64'),
    'https://storage.googleapis.com/stackql-public-releases/latest/stackql_darwin_multiarch.pkg',
  )
  t.equal(
    downloadUrl('linux', 'x64', 'http://127.0.0.1:9/latest/'),
    'http://127.0.0.1:9/latest/stackql_linux_amd64.zip',
  )
  t.throws(() => downloadUrl('freebsd', 'x64'), { code: 'STACKQL_BINARY' })
})

t.test('parses `stackql --version` into version and sha', async (t) => {
  t.same(parseVersion('stackql v0.5.612 linux/amd64 (6f3ff1c)\nBuildDate: x\nhttps://stackql.io\n'), {
    version: 'v0.5.612',
    sha: '6f3ff1c',
  })
  t.equal(parseVersion('bash: stackql: command not found'), undefined)
  t.equal(parseVersion(''), undefined)
})

t.test('STACKQL_BIN wins over PATH and download', async (t) => {
  const dir = tempDir(t)
  const server = await serveFiles(t)
  const bin = writeExecutable(join(dir, 'my-stackql'), standinWrapper())
  const found = await new StackqlBinaryManager(
    { bin, downloadDir: join(dir, 'dl'), downloadBaseUrl: server.url },
    { searchPath: dir },
  ).ensure()
  t.same(found, { path: bin, version: 'v0.5.665', sha: '5e0b7a2' })
  t.same(server.hits, [])
})

t.test('a STACKQL_BIN that does not run is reported, not silently replaced', async (t) => {
  const dir = tempDir(t)
  const bin = writeExecutable(join(dir, 'broken'), '#!/bin/sh\necho nope\n')
  const err = await rejection(
    new StackqlBinaryManager({ bin, downloadDir: dir }, { searchPath: '' }).ensure(),
  )
  t.equal(err.code, 'STACKQL_BINARY')
  t.match(err.message, `STACKQL_BIN points at ${bin}`)
})

t.test('uses `stackql` found on PATH before the download directory', async (t) => {
  const dir = tempDir(t)
  const pathDir = join(dir, 'bin')
  mkdirSync(pathDir)
  writeExecutable(join(pathDir, EXE), standinWrapper())
  const server = await serveFiles(t)
  const found = await new StackqlBinaryManager(
    { downloadDir: join(dir, 'dl'), downloadBaseUrl: server.url },
    { searchPath: `/nonexistent:${pathDir}` },
  ).ensure()
  t.equal(found.path, join(pathDir, EXE))
  t.same(server.hits, [])
})

t.test('downloads, unpacks, chmods and verifies the binary; later uses reuse the copy', async (t) => {
  const dir = join(tempDir(t), 'stackql')
  const server = await serveFiles(t, { [ARCHIVE]: { body: await zipOf({ [EXE]: standinWrapper() }) } })
  const found = await new StackqlBinaryManager(...downloadOnly(dir, server.url)).ensure()
  t.same(found, { path: join(dir, EXE), version: 'v0.5.665', sha: '5e0b7a2' })
  t.doesNotThrow(() => accessSync(found.path, constants.X_OK), 'the unpacked binary is executable')
  t.equal(statSync(found.path).mode & 0o777, 0o755)
  t.same(server.hits, [ARCHIVE])
  const again = await new StackqlBinaryManager(...downloadOnly(dir, server.url)).ensure()
  t.equal(again.path, found.path)
  t.same(server.hits, [ARCHIVE], 'a previously downloaded copy is not downloaded again')
})

t.test('concurrent first uses download once', async (t) => {
  const dir = join(tempDir(t), 'stackql')
  const server = await serveFiles(t, {
    [ARCHIVE]: { body: await zipOf({ [`bin/${EXE}`]: standinWrapper() }) },
  })
  const [cfg, opts] = downloadOnly(dir, server.url)
  const manager = new StackqlBinaryManager(cfg, opts)
  const results = await Promise.all([
    manager.ensure(),
    manager.ensure(),
    ensureStackqlBinary(cfg, opts),
    ensureStackqlBinary(cfg, opts),
  ])
  t.same(new Set(results.map((r) => r.path)), new Set([join(dir, EXE)]))
  t.equal(server.hits.length, 2, 'one download per manager: the process-wide one and this one')
  await ensureStackqlBinary(cfg, opts)
  t.equal(server.hits.length, 2, 'the process-wide binary is memoised')
})

t.test('an HTTP error becomes STACKQL_BINARY; the failure is not remembered', async (t) => {
  const dir = join(tempDir(t), 'stackql')
  const server = await serveFiles(t)
  const manager = new StackqlBinaryManager(...downloadOnly(dir, server.url))
  const err = await rejection(manager.ensure())
  t.match(err, binaryError(dir))
  t.match(err.message, /HTTP 404/)
  server.routes.set(ARCHIVE, { status: 200, body: await zipOf({ [EXE]: standinWrapper() }) })
  t.equal((await manager.ensure()).path, join(dir, EXE), 'the next use tries again and succeeds')
})

t.test('a corrupt archive becomes STACKQL_BINARY', async (t) => {
  const dir = join(tempDir(t), 'stackql')
  const server = await serveFiles(t, {
    [ARCHIVE]: { body: Buffer.from('PK\u0003\u0004 this is not a zip file') },
  })
  const err = await rejection(new StackqlBinaryManager(...downloadOnly(dir, server.url)).ensure())
  t.match(err, binaryError(dir))
  t.match(err.message, /not a valid zip/)
})

t.test('an archive without stackql becomes STACKQL_BINARY', async (t) => {
  const dir = join(tempDir(t), 'stackql')
  const server = await serveFiles(t, { [ARCHIVE]: { body: await zipOf({ 'README.txt': 'hello' }) } })
  const err = await rejection(new StackqlBinaryManager(...downloadOnly(dir, server.url)).ensure())
  t.match(err, binaryError(dir))
  t.match(err.message, `holds no ${EXE}`)
})

t.test('a downloaded binary that does not run becomes STACKQL_BINARY', async (t) => {
  for (const [what, content] of [
    ['garbage bytes', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3])],
    ['a program printing no version', '#!/bin/sh\necho "hello"\n'],
  ] as const) {
    const dir = join(tempDir(t), 'stackql')
    const server = await serveFiles(t, { [ARCHIVE]: { body: await zipOf({ [EXE]: content }) } })
    const err = await rejection(new StackqlBinaryManager(...downloadOnly(dir, server.url)).ensure())
    t.match(err, binaryError(dir))
    t.pass(what)
  }
})

t.test('an unwritable download directory becomes STACKQL_BINARY naming it', async (t) => {
  const base = tempDir(t)
  writeFileSync(join(base, 'a-file'), 'x')
  // A path below a regular file cannot be created, even by root.
  const dir = join(base, 'a-file', 'stackql')
  const server = await serveFiles(t, { [ARCHIVE]: { body: await zipOf({ [EXE]: standinWrapper() }) } })
  const err = await rejection(new StackqlBinaryManager(...downloadOnly(dir, server.url)).ensure())
  t.match(err, binaryError(dir))
  t.match(err.message, /ENOTDIR/)
  t.same(server.hits, [], 'nothing is downloaded into a directory that cannot hold it')
})

t.test('no network (connection refused) becomes STACKQL_BINARY', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const dir = join(tempDir(t), 'stackql')
  const err = await rejection(
    new StackqlBinaryManager(...downloadOnly(dir, `http://127.0.0.1:${port}/latest`)).ensure(),
  )
  t.match(err, binaryError(dir))
})

t.test('on macOS the .pkg is expanded with pkgutil; without pkgutil the error says so', async (t) => {
  const dir = join(tempDir(t), 'stackql')
  const server = await serveFiles(t, {
    '/latest/stackql_darwin_multiarch.pkg': { body: Buffer.from('xar!') },
  })
  const manager = new StackqlBinaryManager(
    { downloadDir: dir, downloadBaseUrl: server.url },
    { searchPath: '', platform: 'darwin', arch: 'arm64' },
  )
  t.equal(manager.downloadedPath, join(dir, 'stackql', 'Payload', 'stackql'))
  const err = await rejection(manager.ensure())
  t.match(err, binaryError(dir))
  t.match(err.message, /pkgutil/)
  t.same(server.hits, ['/latest/stackql_darwin_multiarch.pkg'])
})

t.test(
  'a broken stackql on PATH or in the download directory is skipped with a warning and replaced',
  async (t) => {
    const base = tempDir(t)
    const pathDir = join(base, 'bin')
    const dir = join(base, 'dl')
    mkdirSync(pathDir)
    mkdirSync(dir)
    writeExecutable(join(pathDir, EXE), '#!/bin/sh\nexit 3\n')
    writeExecutable(join(dir, EXE), '#!/bin/sh\necho "half-written"\n')
    const server = await serveFiles(t, { [ARCHIVE]: { body: await zipOf({ [EXE]: standinWrapper() }) } })
    const logger = captureLogger()
    const found = await new StackqlBinaryManager(
      { downloadDir: dir, downloadBaseUrl: server.url },
      { searchPath: pathDir, logger },
    ).ensure()
    t.equal(found.version, 'v0.5.665')
    t.equal(found.path, join(dir, EXE))
    t.same(server.hits, [ARCHIVE])
    t.match(
      logger.lines.join('\n'),
      /stackql on PATH does not run[\s\S]*downloaded stackql does not run[\s\S]*stackql downloaded/,
    )
  },
)

t.test(
  'createStackqlRunner runs queries with the configured binary under <downloadDir>/approot',
  async (t) => {
    const dir = tempDir(t)
    const bin = writeExecutable(join(dir, 'stackql-bin'), standinWrapper())
    const runner = createStackqlRunner({
      bin,
      downloadDir: join(dir, 'dl'),
      queryTimeoutMs: 30_000,
      maxOutputBytes: 1024 * 1024,
    })
    t.equal(runner.approot, join(dir, 'dl', 'approot'))
    await runner.run('REGISTRY PULL github')
    t.same((await runner.run('SHOW PROVIDERS')).rows, [{ name: 'github', version: 'v24.04.00227' }])
  },
)
