// The Inventory area: the tables scheduled runs wrote (row counts as the writer recorded them, not
// COUNT(*)), a preview of the first 100 rows of the selected one, its run history, and a Refresh
// of its `<table>_mv` materialised view. Identifiers are validated by DbService (pattern + catalog).
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { readColumnMap } from '../../src/db/column-map.js'
import { INVENTORY_SCHEMA } from '../../src/db/identifiers.js'
import { columnComments } from '../../src/db/table-comments.js'
import { AppError } from '../../src/errors.js'
import type { InventoryTable } from '../../src/models.js'
import { formatTime } from '../../src/render/format.js'
import { registerChanges } from './changes.js'
import {
  columnMapOf,
  inventoryChart,
  isoTime,
  metricsOf,
  previewOf,
  runsChart,
  tableRows,
} from './view-model.js'

const PREVIEW_ROWS = 100
const RUNS_SHOWN = 30

// Only a length bound here: the DbService decides what a valid table name is, with one message.
const TableParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) })
interface TableParams {
  name: string
}

const inventory: FastifyPluginAsync = async (app) => {
  registerChanges(app)
  /** The selected table's panel: preview, run history, facts from the table list. */
  async function detailOf(name: string, listed?: InventoryTable[]) {
    // Validates the name (400) and that it is an inventory table (404) before anything else.
    const preview = await app.db.getInventoryPreview(name, PREVIEW_ROWS)
    const [tables, runs, columnMap, columns] = await Promise.all([
      listed ?? app.db.getInventoryTables(),
      app.db.getRunsForTable(INVENTORY_SCHEMA, name, RUNS_SHOWN),
      app.db.use((sql) => readColumnMap(sql, INVENTORY_SCHEMA, name)),
      app.db.use((sql) => columnComments(sql, INVENTORY_SCHEMA, name)),
    ])
    const table = tables.find((t) => t.name === name)
    return {
      name,
      schema: INVENTORY_SCHEMA,
      rows: tableRows(table ? [table] : [])[0],
      preview: previewOf(preview),
      columnMap: columnMapOf(columnMap),
      columns,
      limit: PREVIEW_ROWS,
      runs: runs.length,
      runsChart: runsChart(runs),
      lastRun: runs[0] ? { status: runs[0].status, at: formatTime(runs[0].started_at) } : null,
    }
  }

  async function page(selected?: string) {
    const tables = await app.db.getInventoryTables()
    const detail = selected ? await detailOf(selected, tables) : null
    return {
      schema: INVENTORY_SCHEMA,
      metrics: metricsOf(tables),
      tables: tableRows(tables, selected),
      chart: inventoryChart(tables),
      detail,
    }
  }

  app.get('/', async (_req, reply) =>
    reply.render(
      'inventory/index',
      { ...(await page()), insights: app.config.insights },
      { title: 'Inventory' },
    ),
  )

  app.get<{ Params: TableParams }>(
    '/tables/:name',
    { schema: { params: TableParams } },
    async (req, reply) => {
      const { name } = req.params
      if (req.isPartial) {
        return reply.render('inventory/_detail', { detail: await detailOf(name) }, { title: name })
      }
      return reply.render(
        'inventory/index',
        { ...(await page(name)), insights: app.config.insights },
        { title: `${name} · Inventory` },
      )
    },
  )

  app.post<{ Params: TableParams }>(
    '/tables/:name/refresh',
    { schema: { params: TableParams } },
    async (req, reply) => {
      const { name } = req.params
      // The table first (400 for a bad name, 404 for an unknown one), so a missing view is not
      // reported for a table that does not exist.
      await app.db.getInventoryPreview(name, 1)
      const view = `${name}_mv`
      try {
        await app.db.refreshMaterialisedView(view)
      } catch (e) {
        if (e instanceof AppError && e.code === 'NOT_FOUND') {
          throw new AppError(
            'NOT_FOUND',
            `Table ${name} has no materialised view ${view} to refresh. Create one over the table (CREATE MATERIALIZED VIEW ${INVENTORY_SCHEMA}.${view} AS SELECT ... FROM ${INVENTORY_SCHEMA}.${name}) to give dashboards a refreshable view.`,
            { cause: e },
          )
        }
        throw e
      }
      const at = new Date()
      return reply.render('inventory/_mv-status', {
        name,
        message: `Refreshed at ${at.toISOString().slice(11, 19)} UTC`,
        at: isoTime(at),
      })
    },
  )
}

export default inventory
