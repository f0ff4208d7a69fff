// The logger shape the StackQL engine writes to; its own module so binary.ts and runner.ts do not
// import each other.

/** The pino-shaped subset of a logger the engine writes to (Fastify's logger fits). */
export interface EngineLogger {
  debug(obj: Record<string, unknown>, msg: string): void
  info(obj: Record<string, unknown>, msg: string): void
  warn(obj: Record<string, unknown>, msg: string): void
}
