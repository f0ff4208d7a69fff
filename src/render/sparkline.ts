// Tiny inline-SVG charts for run histories and row counts: pure functions returning an SVG string
// that is safe to embed raw in HTML (every piece of text is escaped, every number is finite).

export type BarStatus = 'SUCCESS' | 'FAILED' | 'RUNNING' | 'PARTIAL'

export interface BarPoint {
  /** Bar height in data units (e.g. rows written); null/undefined when the point has no value. */
  value: number | null | undefined
  /** Colours the bar; without a status the bar is drawn in the neutral brand colour. */
  status?: BarStatus
  /** Tooltip text (rendered as the bar's <title>). */
  label: string
}

export interface BarChartOptions {
  /** Accessible name of the whole picture (aria-label and the chart's own <title>). */
  title: string
  /** Drawing height in px (default 28). */
  height?: number
  /** Width of one bar in px (default 7). */
  barWidth?: number
  /** Space between bars in px (default 2). */
  gap?: number
  /**
   * Number of bar slots the chart is wide (default: the number of points). Points are
   * right-aligned, so with a fixed slot count the newest bar always sits at the right edge.
   * Only the last `slots` points are drawn.
   */
  slots?: number
  /** Extra class names for the <svg> element (letters, digits, `-`, `_` and spaces only). */
  className?: string
}

/** Fill colours, matching public/css/app.css (--ok, --bad, --warn, --brand). */
export const BAR_COLOURS: Record<BarStatus | 'NONE', string> = {
  SUCCESS: '#1a7f37',
  FAILED: '#c62828',
  RUNNING: '#9a6700',
  PARTIAL: '#b26a00',
  NONE: '#0b5cad',
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for XML/HTML text and attribute values. */
export function escapeXml(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)
}

function positive(n: number | undefined, fallback: number): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : fallback
}

/** Rounds to 0.1 px so the markup stays short. */
function px(n: number): string {
  return String(Math.round(n * 10) / 10)
}

/**
 * A bar chart: one bar per point, oldest on the left. Bar height is the value relative to the
 * largest value (at least 2 px so a zero still shows its status colour); a point without a value
 * (a failed run wrote nothing, a run still going) is drawn full height and pale, so it reads as
 * "no number here" rather than as a large number. Each bar carries a <title> tooltip.
 */
export function barChart(points: BarPoint[], opts: BarChartOptions): string {
  const height = Math.round(positive(opts.height, 28))
  const barWidth = positive(opts.barWidth, 7)
  const gap = opts.gap !== undefined && Number.isFinite(opts.gap) && opts.gap >= 0 ? opts.gap : 2
  const slots = Math.max(1, Math.floor(positive(opts.slots, Math.max(points.length, 1))))
  const shown = points.slice(-slots)
  const width = Math.ceil(slots * barWidth + (slots - 1) * gap)
  const className = `bar-chart${opts.className ? ` ${opts.className.replace(/[^A-Za-z0-9_ -]/g, '')}` : ''}`

  const values = shown.map((p) =>
    typeof p.value === 'number' && Number.isFinite(p.value) ? Math.max(0, p.value) : null,
  )
  const max = Math.max(0, ...values.map((v) => v ?? 0))
  const drawable = height - 1 // keep the baseline visible
  const offset = slots - shown.length

  const bars = shown.map((p, i) => {
    const value = values[i]!
    const colour = BAR_COLOURS[p.status ?? 'NONE'] ?? BAR_COLOURS.NONE
    const h = value === null ? drawable : max > 0 ? Math.max(2, (value / max) * drawable) : 2
    const x = (offset + i) * (barWidth + gap)
    const opacity = value === null ? ' fill-opacity="0.35"' : ''
    const status = p.status ? ` ${p.status}` : ''
    return `<rect class="bar${status}" x="${px(x)}" y="${px(drawable - h)}" width="${px(barWidth)}" height="${px(h)}" fill="${colour}"${opacity}><title>${escapeXml(p.label)}</title></rect>`
  })

  const title = escapeXml(opts.title)
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${className}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">` +
    `<title>${title}</title>` +
    `<line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}" stroke="#dde1e7" stroke-width="1"/>` +
    bars.join('') +
    '</svg>'
  )
}
