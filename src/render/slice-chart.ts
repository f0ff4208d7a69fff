// The per-slice picture of a "Run across" result: one horizontal bar per profile, its length the
// slice's time (relative to the slowest), green for succeeded, red for failed, each labelled with
// the profile and its rows. The text lines next to it carry the same facts for screen readers.
import { escapeXml } from './sparkline.js'

export interface SliceBar {
  profile: string
  state: 'SUCCESS' | 'FAILED' | 'running' | 'queued'
  rows?: number
  elapsedMs?: number
}

const COLOURS: Record<SliceBar['state'], string> = {
  SUCCESS: '#1a7f37',
  FAILED: '#c62828',
  running: '#b26a00',
  queued: '#9aa4ae',
}

/** Time for a person: 840 ms, 1.2 s, 14 s. */
export function shortElapsed(ms: number | undefined): string {
  if (ms === undefined) return ''
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`
}

/** An SVG of the slices (role img; its label sums the run up). */
export function sliceChart(bars: SliceBar[], opts: { width?: number } = {}): string {
  const width = opts.width ?? 360
  const row = 18
  const labelWidth = 120
  const barSpace = width - labelWidth - 90
  const slowest = Math.max(1, ...bars.map((b) => b.elapsedMs ?? 0))
  const ok = bars.filter((b) => b.state === 'SUCCESS').length
  const failed = bars.filter((b) => b.state === 'FAILED').length
  const label = `${bars.length} profile slices: ${ok} succeeded, ${failed} failed`
  const height = Math.max(row, bars.length * row)
  const lines = bars.map((b, i) => {
    const y = i * row
    const w = Math.max(2, Math.round(((b.elapsedMs ?? 0) / slowest) * barSpace))
    const what =
      b.state === 'SUCCESS'
        ? `${b.rows ?? 0} ${b.rows === 1 ? 'row' : 'rows'}`
        : b.state === 'FAILED'
          ? 'failed'
          : b.state
    const tip = `${b.profile}: ${what}${b.elapsedMs !== undefined ? `, ${shortElapsed(b.elapsedMs)}` : ''}`
    return (
      `<g><title>${escapeXml(tip)}</title>` +
      `<text x="0" y="${y + 13}" font-size="12">${escapeXml(b.profile.slice(0, 18))}</text>` +
      `<rect x="${labelWidth}" y="${y + 3}" width="${w}" height="12" rx="2" fill="${COLOURS[b.state]}"/>` +
      `<text x="${labelWidth + w + 6}" y="${y + 13}" font-size="12">${escapeXml(what)}</text></g>`
    )
  })
  return `<svg class="slice-chart" role="img" aria-label="${escapeXml(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${lines.join('')}</svg>`
}
