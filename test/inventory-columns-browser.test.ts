// Finding 3 of issue 12, in a real browser: the Inventory page's table detail shows which StackQL
// keys are stored under another column name (screenshot: inventory-column-map.png).
import t from 'tap'
import { writeInventory } from '../src/db/inventory-writer.js'
import { hasChromium, startBrowserApp } from './helpers/browser.js'

t.test(
  'finding 3: the table detail lists the keys stored under another column name',
  { skip: !hasChromium && 'no Chromium' },
  async (t) => {
    const b = await startBrowserApp(t)
    await b.app.db.ping()
    await writeInventory(
      b.app.db.sql,
      { schema: 'stackql_inventory', table: 'ec2_instances' },
      {
        columns: ['instanceId', 'instance_id', 'instanceType', 'region', 'launchTime', 'Tags'],
        rows: [
          {
            instanceId: 'i-0abc',
            instance_id: 'legacy',
            instanceType: 't3.micro',
            region: 'eu-west-1',
            launchTime: '2024-05-01T10:00:00Z',
            Tags: { env: 'prod' },
          },
          {
            instanceId: 'i-0def',
            instance_id: null,
            instanceType: 'm5.large',
            region: 'us-east-1',
            launchTime: '2024-05-02T11:00:00Z',
            Tags: {},
          },
        ],
      },
    )
    await b.page.goto(`${b.baseUrl}/inventory/tables/ec2_instances`)
    const map = b.page.getByRole('table', { name: 'Column names' })
    await map.waitFor()
    const cells = await map.locator('tbody tr').allInnerTexts()
    t.equal(
      cells.length,
      4,
      'instanceId, instanceType, launchTime and Tags are renamed; instance_id and region are not',
    )
    t.match(cells.join('\n'), /instanceId\s+instance_id_[0-9a-f]{6}/)
    t.match(cells.join('\n'), /launchTime\s+launch_time/)
    await map.scrollIntoViewIfNeeded()
    await b.screenshot('inventory-column-map')
    t.same(b.pageErrors, [])
  },
)
