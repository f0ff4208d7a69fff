// The closest real names to a misspelt one (Levenshtein distance, case-insensitive).

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/** Up to `max` names close to `word`: small edit distance, or one containing the other. */
export function closestNames(word: string, names: readonly string[], max = 3): string[] {
  const w = word.toLowerCase()
  const limit = Math.max(2, Math.floor(w.length / 3))
  const scored = names
    .map((name) => {
      const n = name.toLowerCase()
      const d = levenshtein(w, n)
      const contains = w.length >= 3 && (n.includes(w) || w.includes(n))
      return { name, score: d <= limit ? d : contains ? limit + 0.5 : Number.POSITIVE_INFINITY }
    })
    .filter((s) => Number.isFinite(s.score))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
  // Only the close runners-up: "instance_typ" suggests instance_type, not also instance_id.
  const best = scored[0]?.score ?? 0
  return scored
    .filter((s) => s.score <= best + 1)
    .slice(0, max)
    .map((s) => s.name)
}
