// The grounded assistant in the browser: lookups shown as they happen, the check's verdict, a
// rate limit shown at once with a live countdown, and Explain Query queued visibly meanwhile.
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'
import { startAnthropicStandin } from './standins/anthropic.js'
import { startDatabricksStandin } from './standins/databricks/index.js'

const skip = hasChromium ? false : 'Chromium is not installed (apt-get install -y chromium)'

t.test('the assistant, as a person uses it', { skip }, async (t) => {
  const api = await startAnthropicStandin()
  t.teardown(() => api.close())
  const workspace = await startDatabricksStandin({ pats: ['dapi-test'] })
  t.teardown(() => workspace.close())
  workspace.state.putSecret('stackql-inventory', 'anthropic-api-key', api.apiKey)
  const { page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t, {
    env: {
      STACKQL_LOCAL_DEV: 'false',
      DATABRICKS_HOST: workspace.url,
      DATABRICKS_TOKEN: 'dapi-test',
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_MODEL: 'claude-test-model',
    },
    timeoutMs: 30_000,
  })
  await page.goto(`${baseUrl}/`)

  await t.test('asked for stopped instances, the chat shows both lookups and a checked query', async (t) => {
    await page.fill('#chat-input', 'stopped instances in us-east-1')
    await page.press('#chat-input', 'Enter')
    const answer = page.locator('.chat-msg.chat-assistant:not(.streaming)').last()
    await answer.locator('.chat-check').waitFor()
    const steps = await answer.locator('.chat-step').allTextContents()
    t.equal(steps.length, 2)
    t.match(steps[0], /Looked up aws\.ec2\.instances — 68 columns/)
    t.match(steps[1], /Looked up the methods of aws\.ec2\.instances — 3 methods, SELECT needs region/)
    t.match(await answer.locator('.chat-check').textContent(), /Query checked/)
    t.match(
      await answer.locator('.chat-body').textContent(),
      /FROM aws\.ec2\.instances WHERE region = 'us-east-1'/,
    )
    await screenshot('assistant-lookups')
  })

  await t.test(
    'a 429 with retry-after 30 shows at once; Explain Query pressed meanwhile is queued and answered',
    async (t) => {
      api.script({ kind: 'error', status: 429, retryAfterS: 30 })
      await page.evaluate(
        'window.stackqlEditor.setValue("SELECT instance_id FROM aws.ec2.instances WHERE region = \'us-east-1\'")',
      )
      const sent = Date.now()
      await page.fill('#chat-input', 'list my lambda functions')
      await page.press('#chat-input', 'Enter')
      const wait = page.locator('.chat-msg.streaming .chat-wait')
      await wait.waitFor()
      const shownAfter = Date.now() - sent
      // At once: long before the 30 s the SDK would have waited (3 s of room for a busy machine).
      t.ok(shownAfter < 3000, `the rate limit was shown after ${shownAfter} ms`)
      t.match(await wait.textContent(), /rate limited by Anthropic\. Retrying in 30 s/)
      const first = await wait.locator('.countdown').textContent()
      await page.waitForTimeout(1300)
      const later = await wait.locator('.countdown').textContent()
      t.match(first, /Next attempt in (30|29) s/)
      t.not(later, first, `the countdown moves (${first} → ${later})`)
      t.ok(await page.getByRole('button', { name: 'Stop' }).isVisible(), 'Stop is offered')

      await page.getByRole('button', { name: 'Explain Query' }).click()
      const queued = page.locator('.chat-queued')
      await queued.waitFor()
      t.match(
        await queued.textContent(),
        /Explain Query is queued: it will be asked as soon as the current answer finishes/,
      )
      await screenshot('assistant-rate-limited')

      await page.getByRole('button', { name: 'Stop' }).click()
      await page.waitForTimeout(1500)
      await screenshot('assistant-after-stop')
      await page.locator('.chat-user', { hasText: 'Explain this StackQL query' }).waitFor()
      await page.locator('.chat-msg.chat-assistant:not(.streaming) .chat-check').last().waitFor()
      t.equal(await page.locator('.chat-queued').count(), 0, 'the queued request ran')
      t.match(await page.locator('.chat-error', { hasText: 'Stopped.' }).count(), 1)
      await screenshot('assistant-queued-answered')
    },
  )

  t.same(pageErrors, [], 'no page errors')
})
