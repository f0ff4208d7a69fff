import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { waitUntil } from './helpers/stackql.js'
import { startAnthropicStandin } from './standins/anthropic.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'
const REPOS = "SELECT id, name, stargazers_count FROM github.repos.repos WHERE org = 'stackql'"

/** True while a stand-in StackQL process for this query text runs. */
function stackqlRunning(marker: string): boolean {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .some((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)
      } catch {
        return false
      }
    })
}

t.test('the IDE, as a person uses it', { skip }, async (t) => {
  const api = await startAnthropicStandin()
  t.teardown(() => api.close())
  // Secrets (the Anthropic key, provider credentials) come from a stand-in workspace, so the test
  // never touches its own process.env.
  const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => workspace.close())
  workspace.state.putSecret('stackql-inventory', 'anthropic-api-key', api.apiKey)
  workspace.state.putSecret('team', 'gh', 'ghp_not_needed_by_the_standin')
  const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t, {
    env: {
      STACKQL_LOCAL_DEV: 'false',
      DATABRICKS_HOST: workspace.url,
      DATABRICKS_TOKEN: 'dapi-test',
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_MODEL: 'claude-test-model',
    },
  })
  for (const provider of ['github', 'stackql_test']) {
    await app.db.saveProviderConfig(
      { provider, env_var_name: 'GITHUB_TOKEN', secret_scope: 'team', secret_key: 'gh' },
      'dev@example.com',
    )
  }
  const editorText = () => page.evaluate<string>('window.stackqlEditor.getValue()')
  const typeQuery = async (text: string) => {
    await page.locator('#editor textarea').focus()
    await page.keyboard.press('Control+A')
    await page.keyboard.press('Delete')
    // Ace closes quotes itself; typing the closing quote steps over it, so the text comes out as typed.
    await page.keyboard.type(text)
  }

  await page.goto(baseUrl)
  await page.locator('#editor[data-state="ready"]').waitFor()
  t.equal(await page.locator('#editor-error').isVisible(), false, 'no editor error')
  await screenshot('ide-empty')

  await t.test('type a query, Ctrl+Enter: the rows with count and time', async (t) => {
    await typeQuery(REPOS)
    t.equal(await editorText(), REPOS, 'the editor holds what was typed')
    await page.keyboard.press('Control+Enter')
    await page.locator('#row-count').waitFor()
    t.equal(await page.locator('#row-count').textContent(), '3 rows')
    t.match(await page.locator('#elapsed').textContent(), /^in \d+(\.\d+)? m?s$/)
    t.equal(await page.locator('#results tbody tr').count(), 3)
    t.equal(await page.inputValue('#query-text'), REPOS, 'the hidden field htmx posts is in sync')
    await screenshot('ide-results')
  })

  await t.test('an error query shows the raw StackQL message', async (t) => {
    await typeQuery('SELECT FROM nowhere')
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    await page.locator('#query-error').waitFor()
    t.match(await page.locator('#query-error').textContent(), /^syntax error at position 13 near 'nowhere'$/)
    await screenshot('ide-error')
  })

  await t.test('an empty result shows the info line', async (t) => {
    await typeQuery("SELECT id FROM github.repos.repos WHERE org = 'nobody'")
    await page.keyboard.press('Control+Enter')
    await page.locator('#no-rows').waitFor()
    t.equal(await page.locator('#no-rows').textContent(), 'Query returned no rows.')
  })

  await t.test('save a query, reload, load it from the sidebar, delete it after confirming', async (t) => {
    await typeQuery(REPOS)
    await page.getByRole('button', { name: 'Save Query' }).click()
    const dialog = page.locator('#save-query-dialog')
    await dialog.waitFor({ state: 'visible' })
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.locator('#error-message').waitFor()
    t.match(await dialog.locator('#error-message').textContent(), /Give the query a name./)
    await screenshot('ide-save-error')
    t.ok(await dialog.isVisible(), 'the dialog stays open with the message')
    await page.fill('#save-name', 'Org repos')
    await page.fill('#save-description', 'Repositories of the stackql org')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.locator('#saved-queries .library-name', { hasText: 'Org repos' }).waitFor()
    await screenshot('ide-saved')

    await typeQuery('SHOW PROVIDERS')
    await page.reload()
    await page.locator('#editor[data-state="ready"]').waitFor()
    await page.locator('.load-query', { hasText: 'Org repos' }).click()
    t.equal(await editorText(), REPOS, 'the saved text is in the editor')
    await page.getByLabel('Profile for github').waitFor() // the picker follows the loaded text

    const item = page.locator('.library-item', { hasText: 'Org repos' })
    await item.getByRole('button', { name: 'Delete Org repos' }).click()
    t.ok(await item.getByRole('button', { name: 'Confirm delete' }).isVisible(), 'asks to confirm')
    await item.getByRole('button', { name: 'Keep' }).click()
    t.equal(await item.getByRole('button', { name: 'Confirm delete' }).isVisible(), false)
    await item.getByRole('button', { name: 'Delete Org repos' }).click()
    await item.getByRole('button', { name: 'Confirm delete' }).click()
    await page.locator('.library-item', { hasText: 'Org repos' }).waitFor({ state: 'detached' })
    t.ok(await page.locator('.library-empty').isVisible(), 'the empty library says what to do')
    t.equal((await app.db.getQueries()).length, 0)
  })

  await t.test('ask the assistant: tokens stream in, Insert into editor takes the SQL', async (t) => {
    const sql = "SELECT name, stargazers_count FROM github.repos.repos WHERE org = 'stackql'"
    api.script({
      kind: 'text',
      text: `Here are the repositories with their stars, most useful first:\n\n\`\`\`sql\n${sql}\n\`\`\`\n\nChange the org to yours.`,
      tokenDelayMs: 40,
    })
    await page.fill('#chat-input', 'which repos have the most stars?')
    await page.press('#chat-input', 'Enter')
    await page.locator('.chat-msg.chat-user', { hasText: 'which repos have the most stars?' }).waitFor()
    // The text of the answer while it is still streaming (the bubble loses .streaming when done).
    const partial = await (
      await page.waitForFunction(() => {
        const doc = (
          globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string | null } | null }
          }
        ).document
        const text = doc.querySelector('.chat-msg.streaming .chat-body')?.textContent ?? ''
        return text.includes('repositories') ? text : false
      })
    ).jsonValue()
    t.notMatch(
      partial,
      /Change the org to yours/,
      `partial text shows before the end: ${JSON.stringify(partial)}`,
    )
    const insert = page.getByRole('button', { name: 'Insert into editor' }).last()
    await insert.waitFor()
    t.match(await page.locator('.chat-msg.chat-assistant').last().textContent(), /Change the org to yours/)
    await insert.click()
    t.equal(await editorText(), sql, 'the SQL without fences replaced the editor text')
    await screenshot('ide-chat')

    await page.reload()
    await page.locator('#chat-log .insert-sql').waitFor()
    t.equal(
      await page.locator('#chat-log .chat-msg').count(),
      2,
      'the history renders again on the next view',
    )
  })

  await t.test('Explain and Interpret put their prompts in the chat', async (t) => {
    await typeQuery(REPOS)
    const answersBefore = await page.locator('.chat-assistant').count()
    await page.getByRole('button', { name: 'Explain Query' }).click()
    await page.locator('.chat-user', { hasText: 'Explain this StackQL query' }).waitFor()
    // Write Query mode offers the lookup tools: the model's first request carries the Explain prompt.
    await page.locator('.chat-assistant:not(.streaming)').nth(answersBefore).waitFor()
    const explainRequest = api.messageRequests().at(-1)!.body as { messages: { content: unknown }[] }
    t.match(JSON.stringify(explainRequest.messages), /Explain this StackQL query/)

    await page.keyboard.press('Control+Enter')
    await page.locator('#row-count').waitFor()
    await page.getByRole('button', { name: 'Interpret Results' }).click()
    await page
      .locator('.chat-user', { hasText: 'Interpret these StackQL query results (3 rows in total)' })
      .waitFor()
    t.ok(
      await page.locator('input[name="chat-mode"][value="results"]').isChecked(),
      'the mode switched to Interpret Results',
    )
    await page.locator('.chat-assistant:not(.streaming)', { hasText: 'You asked: Interpret these' }).waitFor()
    const sent = api.messageRequests().at(-1)!.body as { system: string }
    t.match(sent.system, /cloud infrastructure analyst/)
  })

  await t.test('a 429 from the API shows a readable error in the chat', async (t) => {
    // Two visible 1 s waits (the app retries twice), then the third 429 is reported.
    api.script(
      { kind: 'error', status: 429, retryAfterS: 1 },
      { kind: 'error', status: 429, retryAfterS: 1 },
      { kind: 'error', status: 429, retryAfterS: 1 },
    )
    await page.fill('#chat-input', 'again?')
    await page.press('#chat-input', 'Enter')
    const error = page.locator('.chat-error', { hasText: 'rate limited' })
    await error.waitFor()
    t.match(await error.textContent(), /The AI assistant is rate limited \(try again in 1 s\)\./)
  })

  await t.test('a 50,000-row result shows its first page and downloads a CSV with all rows', async (t) => {
    await typeQuery("SELECT * FROM stackql_test.util.rows WHERE count = '50000'")
    await page.keyboard.press('Control+Enter')
    await page.locator('#showing').waitFor({ timeout: 60_000 })
    t.equal(await page.locator('#showing').textContent(), 'showing 1–1,000 of 50,000')
    t.equal(await page.locator('#results tbody tr').count(), 1000)
    await page.getByRole('button', { name: 'Next ›' }).click()
    await page.locator('#showing', { hasText: 'showing 1,001–2,000 of 50,000' }).waitFor()
    await screenshot('ide-paged')
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ])
    const path = await download.path()
    const lines = readFileSync(path, 'utf8').split('\r\n')
    t.equal(lines[0], 'id,name,region,active,cpu,owner,tags')
    t.equal(lines.length, 50_002, 'header, 50,000 rows and the final line end')
    t.match(lines[50_000], /^50000,resource-50000,/)
  })

  await t.test('Cancel stops a slow query and its StackQL process', async (t) => {
    await typeQuery("SELECT slept FROM stackql_test.util.sleep WHERE seconds = '37'")
    await page.keyboard.press('Control+Enter')
    const cancel = page.getByRole('button', { name: 'Cancel' })
    await cancel.waitFor({ state: 'visible' })
    t.ok(await waitUntil(() => stackqlRunning("seconds = '37'"), 10_000), 'the query runs')
    await cancel.click()
    await page.locator('#run-cancelled').waitFor()
    t.ok(await waitUntil(() => !stackqlRunning("seconds = '37'"), 5_000), 'the StackQL process was killed')
    t.equal(await cancel.isVisible(), false, 'nothing is running any more')
  })

  t.same(pageErrors, [], 'no script errors on the page')
})

t.test('when the editor cannot load, the page says so and how to fix it', { skip }, async (t) => {
  const { page, baseUrl, screenshot } = await startBrowserApp(t)
  await page.route('**/vendor/ace/ace.js', (route) => route.abort())
  await page.goto(baseUrl)
  const error = page.locator('#editor-error')
  await error.waitFor({ state: 'visible' })
  t.match(
    await error.textContent(),
    /The SQL editor could not load: reload the page.*\/vendor\/ace\/ace\.js/s,
  )
  t.ok(
    await page.getByRole('button', { name: 'Run', exact: true }).isDisabled(),
    'Run is disabled, not silently broken',
  )
  t.equal(await page.locator('#query-text').isVisible(), false, 'no bare textarea fallback')
  await screenshot('ide-editor-failed')
})
