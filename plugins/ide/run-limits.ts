// How many IDE queries may run at once, per user and on this server: each run is a StackQL process
// and a result held in memory, so an unbounded /run lets one browser (or a script) exhaust both.

export interface RunLimitsOptions {
  perUser: number
  total: number
}

/** Counts running IDE queries; `enter` returns a release function, or the refusal message (for a 429). */
export class RunLimits {
  readonly #perUser = new Map<string, number>()
  #total = 0

  constructor(private readonly opts: RunLimitsOptions) {}

  get running(): number {
    return this.#total
  }

  enter(user: string): { release: () => void } | { refused: string } {
    const mine = this.#perUser.get(user) ?? 0
    if (mine >= this.opts.perUser) {
      return {
        refused: `You already have ${mine} ${mine === 1 ? 'query' : 'queries'} running, the most one user may run at once (IDE_MAX_CONCURRENT_RUNS_PER_USER = ${this.opts.perUser}). Wait for ${mine === 1 ? 'it' : 'one'} to finish, or cancel it, then run again.`,
      }
    }
    if (this.#total >= this.opts.total) {
      return {
        refused: `${this.#total} queries are running on this server, the most it runs at once (IDE_MAX_CONCURRENT_RUNS = ${this.opts.total}). Wait a moment and run again.`,
      }
    }
    this.#perUser.set(user, mine + 1)
    this.#total++
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.#total--
        const left = (this.#perUser.get(user) ?? 1) - 1
        if (left > 0) this.#perUser.set(user, left)
        else this.#perUser.delete(user)
      },
    }
  }
}
