// Inline SVG pictures of the inventory: rows per table (horizontal bars) and one table's row count
// over its recent runs. Pure functions returning safe SVG markup: every text is escaped, and each
// bar carries a <title> so the exact figure shows as a tooltip.
import type { Run } from '../models.js'
import { formatCount } from './format.js'
import { escapeXml } from './sparkline.js'

export interface TableRows {
  name: string
  rows: number
}

const WIDTH = 720

/** 1234 -> 1.2k, 2500000 -> 2.5M: axis labels that fit beside a bar. */
export function shortCount(n: number): string {
  const abs = Math.abs(n)
  if (abs >= 1e9) return `${trim(n / 1e9)}B`
  if (abs >= 1e6) return `${trim(n / 1e6)}M`
  if (abs >= 1e4) return `${trim(n / 1e3)}k`
  return formatCount(n)
}

function trim(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1).replace(/\.0$/, '')
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** Keeps both ends of a long name (tables often share a prefix and differ at the end). */
function shorten(name: string, max: number): string {
  if (name.length <= max) return name
  const tail = Math.floor((max - 1) / 2)
  return `${name.slice(0, max - 1 - tail)}…${name.slice(-tail)}`
}

/**
 * Horizontal bars, one per table, largest first; at most `limit` bars (the caller says how many
 * were left out). Returns '' when there is nothing to draw.
 */
export function rowsPerTableChart(tables: TableRows[], opts: { limit?: number } = {}): string {
  const limit = opts.limit ?? 25
  const shown = [...tables].sort((a, b) => b.rows - a.rows || a.name.localeCompare(b.name)).slice(0, limit)
  if (shown.length === 0) return ''
  const width = 560
  const labelW = 170
  const valueW = 56
  const barH = 16
  const gap = 6
  const top = 4
  const height = top + shown.length * (barH + gap)
  const max = Math.max(1, ...shown.map((t) => t.rows))
  const span = width - labelW - valueW - 8
  const total = shown.reduce((s, t) => s + t.rows, 0)
  const bars = shown.map((t, i) => {
    const y = top + i * (barH + gap)
    const w = t.rows > 0 ? Math.max(2, Math.round((t.rows / max) * span)) : 0
    const tip = `${t.name}: ${formatCount(t.rows)} rows`
    return (
      `<g class="chart-row"><title>${escapeXml(tip)}</title>` +
      `<text x="${labelW - 8}" y="${y + barH - 4}" text-anchor="end" class="chart-label">${escapeXml(shorten(t.name, 22))}</text>` +
      `<rect x="${labelW}" y="${y}" width="${span}" height="${barH}" class="chart-track"/>` +
      `<rect x="${labelW}" y="${y}" width="${w}" height="${barH}" class="chart-bar"/>` +
      `<text x="${labelW + w + 6}" y="${y + barH - 4}" class="chart-value">${escapeXml(shortCount(t.rows))}</text></g>`
    )
  })
  const label = `Rows per table: ${shown.length} table(s), ${formatCount(total)} rows in total`
  return (
    `<svg class="chart chart-rows" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(label)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeXml(label)}</title>${bars.join('')}</svg>`
  )
}

/**
 * Row count per run, oldest on the left. `runs` as DbService.getRunsForTable returns them (newest
 * first). Successful runs are bars of their row count; failed runs a short red mark whose tooltip
 * carries the reason; running ones a grey mark.
 */
export function runHistoryChart(runs: Run[]): string {
  if (runs.length === 0) return ''
  const ordered = [...runs].reverse()
  const height = 120
  const axisW = 56
  const bottom = 18
  const top = 8
  const plotH = height - bottom - top
  const slot = Math.min(40, (WIDTH - axisW) / ordered.length)
  const barW = Math.max(3, slot * 0.7)
  const max = Math.max(1, ...ordered.map((r) => (r.status === 'SUCCESS' ? (r.row_count ?? 0) : 0)))
  const marks = ordered.map((r, i) => {
    const x = axisW + i * slot + (slot - barW) / 2
    const when = r.started_at instanceof Date ? r.started_at.toISOString().replace('T', ' ').slice(0, 16) : ''
    let h: number
    let cls: string
    let tip: string
    if (r.status === 'SUCCESS') {
      const rows = r.row_count ?? 0
      h = rows > 0 ? Math.max(2, Math.round((rows / max) * plotH)) : 1
      cls = 'chart-bar run-success'
      tip = `${when} UTC: SUCCESS, ${formatCount(rows)} rows`
    } else if (r.status === 'FAILED') {
      h = 6
      cls = 'chart-bar run-failed'
      tip = `${when} UTC: FAILED${r.error ? ` - ${truncate(r.error, 300)}` : ''}`
    } else {
      h = 6
      cls = 'chart-bar run-running'
      tip = `${when} UTC: RUNNING`
    }
    const y = top + plotH - h
    return `<rect x="${x.toFixed(1)}" y="${y}" width="${barW.toFixed(1)}" height="${h}" class="${cls}"><title>${escapeXml(tip)}</title></rect>`
  })
  const ok = ordered.filter((r) => r.status === 'SUCCESS').length
  const failed = ordered.filter((r) => r.status === 'FAILED').length
  const label = `Row count over the last ${ordered.length} run(s): ${ok} succeeded, ${failed} failed, at most ${formatCount(max)} rows`
  // At least wide enough for the "older"/"latest" labels to stand apart.
  const width = Math.max(240, Math.min(WIDTH, Math.ceil(axisW + ordered.length * slot + 4)))
  return (
    `<svg class="chart chart-runs" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(label)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeXml(label)}</title>` +
    `<line x1="${axisW - 4}" y1="${top + plotH}" x2="${width}" y2="${top + plotH}" class="chart-axis"/>` +
    `<text x="${axisW - 8}" y="${top + 10}" text-anchor="end" class="chart-value">${escapeXml(shortCount(max))}</text>` +
    `<text x="${axisW - 8}" y="${top + plotH}" text-anchor="end" class="chart-value">0</text>` +
    (ordered.length > 1 ? `<text x="${axisW}" y="${height - 4}" class="chart-value">older</text>` : '') +
    `<text x="${(axisW + ordered.length * slot).toFixed(1)}" y="${height - 4}" text-anchor="end" class="chart-value">latest</text>` +
    `${marks.join('')}</svg>`
  )
}
