export interface ThrowawayPostgres {
  url: string
  dir: string
  stop(): Promise<void>
}
export function startThrowawayPostgres(): Promise<ThrowawayPostgres>
export function withTestDatabase<T>(fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T>
