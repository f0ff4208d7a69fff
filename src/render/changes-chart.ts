// The Changes timeline: one column per run (oldest left), added above the axis in green, removed
// below in red, modified stacked on the added in amber; inline SVG like the other charts.
import { escapeXml } from './sparkline.js'

export interface ChangePoint {
  label: string
  added: number
  removed: number
  modified: number
  baseline: boolean
  failed: boolean
  href?: string
}

export function changesChart(points: ChangePoint[], title: string): string {
  const w = 14
  const h = 90
  const mid = h / 2
  const max = Math.max(1, ...points.flatMap((p) => (p.baseline ? [] : [p.added + p.modified, p.removed])))
  const scale = (n: number) => (n === 0 ? 0 : Math.max(2, Math.round((n / max) * (mid - 4))))
  const bars = points.map((p, i) => {
    const x = i * w + 2
    const tip = `<title>${escapeXml(p.label)}</title>`
    if (p.failed)
      return `<g>${tip}<rect x="${x}" y="${mid - 2}" width="${w - 4}" height="4" class="bar-failed" fill="#c0392b"/></g>`
    if (p.baseline)
      return `<g>${tip}<rect x="${x}" y="${mid - 6}" width="${w - 4}" height="12" fill="#9aa5b1"/></g>`
    const a = scale(p.added)
    const m = scale(p.modified)
    const r = scale(p.removed)
    return `<g>${tip}<rect x="${x}" y="${mid - a - m}" width="${w - 4}" height="${m}" fill="#d68910"/><rect x="${x}" y="${mid - a}" width="${w - 4}" height="${a}" fill="#1e8449"/><rect x="${x}" y="${mid}" width="${w - 4}" height="${r}" fill="#c0392b"/></g>`
  })
  const width = Math.max(1, points.length) * w + 4
  return `<svg xmlns="http://www.w3.org/2000/svg" class="changes-chart" role="img" aria-label="${escapeXml(title)}" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}"><title>${escapeXml(title)}</title><line x1="0" y1="${mid}" x2="${width}" y2="${mid}" stroke="#ccd" stroke-width="1"/>${bars.join('')}</svg>`
}
