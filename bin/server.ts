// Entry point of the web app: `npm start` runs the built copy (dist/server.js), `npm run dev` this file.
import { loadConfig, loadDotEnvForDevelopment } from '../src/config.js'
import { isAppError } from '../src/errors.js'

async function main() {
  loadDotEnvForDevelopment()
  const config = loadConfig()
  const { buildApp } = await import('../plugins/app.js')
  const app = await buildApp(config)
  const close = async (signal: string) => {
    app.log.info(`${signal} received, closing`)
    await app.close()
    process.exit(0)
  }
  process.once('SIGINT', () => void close('SIGINT'))
  process.once('SIGTERM', () => void close('SIGTERM'))
  await app.listen({ host: config.host, port: config.port })
}

main().catch((e) => {
  // Configuration and start-up problems: one clear line, no stack trace.
  console.error(isAppError(e) ? `Cannot start: ${e.message}` : `Cannot start: ${(e as Error).stack ?? e}`)
  process.exit(1)
})
