// Turns what DbService returns about the inventory into what the templates show: metrics, the
// table list, the pictures and preview cells (strings only; the templates escape them).
import type { ColumnMapEntry } from '../../src/db/column-map.js'
import { IDENTIFIER_PATTERN, type InventoryTable, type ResultSet, type Run } from '../../src/models.js'
import { formatCount, formatTime } from '../../src/render/format.js'
import { rowsPerTableChart, runHistoryChart } from '../../src/render/inventory-chart.js'

/** How many tables the rows-per-table picture draws (largest first). */
export const CHART_TABLES = 25
const MAX_CELL = 4000
const TABLE_NAME = new RegExp(IDENTIFIER_PATTERN)

export interface InventoryMetrics {
  tables: string
  rows: string
  lastRefresh: string
}

export interface PreviewCell {
  kind: 'null' | 'json' | 'num' | 'text'
  text: string
}

export interface Preview {
  columns: string[]
  rows: PreviewCell[][]
  count: number
}

export function isoTime(d: Date | null | undefined): string {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : ''
}

export function metricsOf(tables: InventoryTable[]): InventoryMetrics {
  let total = 0
  let last: Date | null = null
  for (const t of tables) {
    total += Number(t.row_count) || 0
    if (t.last_updated && (!last || t.last_updated > last)) last = t.last_updated
  }
  return { tables: formatCount(tables.length), rows: formatCount(total), lastRefresh: formatTime(last) }
}

export function tableRows(tables: InventoryTable[], selected?: string) {
  return tables.map((t) => ({
    name: t.name,
    rows: formatCount(Number(t.row_count) || 0),
    lastUpdated: formatTime(t.last_updated, 'not recorded'),
    lastUpdatedIso: isoTime(t.last_updated),
    hasMv: t.has_mv,
    selected: t.name === selected,
    // Tables created outside the app may have names the app refuses to read (quotes, capitals...).
    valid: TABLE_NAME.test(t.name),
  }))
}

export function inventoryChart(tables: InventoryTable[]): { svg: string; note: string } {
  const svg = rowsPerTableChart(
    tables.map((t) => ({ name: t.name, rows: Number(t.row_count) || 0 })),
    { limit: CHART_TABLES },
  )
  const note =
    tables.length > CHART_TABLES ? `The ${CHART_TABLES} largest of ${tables.length} tables are shown.` : ''
  return { svg, note }
}

export function runsChart(runs: Run[]): string {
  return runHistoryChart(runs)
}

function cell(value: unknown): PreviewCell {
  if (value === null || value === undefined) return { kind: 'null', text: 'null' }
  if (value instanceof Date) return { kind: 'text', text: value.toISOString() }
  if (typeof value === 'number' || typeof value === 'bigint') return { kind: 'num', text: String(value) }
  if (typeof value === 'boolean') return { kind: 'text', text: String(value) }
  if (typeof value === 'object') return { kind: 'json', text: clip(readableJson(value)) }
  const text = String(value)
  // StackQL often hands nested data over as JSON text: show it indented so it can be read.
  if (/^\s*[[{]/.test(text)) {
    try {
      return { kind: 'json', text: clip(readableJson(JSON.parse(text))) }
    } catch {
      // not JSON after all: plain text
    }
  }
  return { kind: 'text', text: clip(text) }
}

/** Short JSON on one line (["cloud","sql"]), anything longer indented. */
function readableJson(value: unknown): string {
  const compact = JSON.stringify(value)
  return compact.length <= 60 ? compact : JSON.stringify(value, null, 2)
}

function clip(text: string): string {
  return text.length > MAX_CELL
    ? `${text.slice(0, MAX_CELL)}… (${formatCount(text.length)} characters)`
    : text
}

export function previewOf(result: ResultSet): Preview {
  return {
    columns: result.columns,
    rows: result.rows.map((row) => result.columns.map((c) => cell(row[c]))),
    count: result.rows.length,
  }
}

/** The stored key -> column mapping, for the detail panel: only the keys stored under another name. */
export function columnMapOf(entries: ColumnMapEntry[]): {
  total: number
  renamed: { key: string; column: string }[]
} {
  return {
    total: entries.length,
    renamed: entries
      .filter((e) => e.source_key !== e.column_name)
      .map((e) => ({ key: e.source_key, column: e.column_name })),
  }
}
