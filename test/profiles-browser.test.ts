// Browser: the Providers page groups two aws profiles with their mappings and variables, and the
// IDE's profile picker follows the editor text (one select per referenced provider).
import t from 'tap'
import { hasChromium, startBrowserApp } from './helpers/browser.js'

t.test(
  'the Providers page shows aws/default and aws/prod; the IDE picker lists the profiles of the providers in the text',
  { skip: hasChromium ? false : 'Chromium is not installed' },
  async (t) => {
    const { app, page, baseUrl, screenshot, pageErrors } = await startBrowserApp(t)
    const by = 'me@example.com'
    for (const [profile, prefix] of [
      ['default', 'aws'],
      ['prod', 'aws-prod'],
    ] as const) {
      for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        await app.db.saveProviderConfig(
          {
            provider: 'aws',
            profile,
            env_var_name: v,
            secret_scope: 'stackql-inventory',
            secret_key: `${prefix}-${v.toLowerCase().replace(/_/g, '-')}`,
          },
          by,
        )
      }
    }
    await app.db.setProfileVariable(
      { provider: 'aws', profile: 'prod', name: 'regions', value: 'us-east-1, eu-west-1' },
      by,
    )
    await page.goto(`${baseUrl}/providers`)
    await page.locator('#profile-aws--prod').waitFor()
    t.equal(await page.locator('#provider-aws article.profile').count(), 2, 'two aws profiles')
    t.match(await page.locator('#profile-aws--prod').innerText(), /\{\{ regions \}\}\s+us-east-1, eu-west-1/)
    await page.getByLabel('Variable name for aws/default').fill('region')
    await page.getByLabel('Value for aws/default').fill('eu-west-1')
    await page.getByLabel('Value for aws/default').press('Enter')
    await page.locator('#profile-aws--default').getByText('{{ region }}').waitFor()
    await screenshot('providers-profiles')

    await page.goto(`${baseUrl}/`)
    await page.locator('#editor[data-state="ready"]').waitFor()
    await page.getByText('no provider referenced yet').waitFor()
    const text =
      "SELECT r.name, i.instance_id FROM github.repos.repos r JOIN aws.ec2.instances i ON i.region IN ({{ regions }}) WHERE r.org = 'stackql'"
    await page.evaluate(`window.stackqlEditor.setValue(${JSON.stringify(text)}, 1)`)
    const aws = page.getByLabel('Profile for aws')
    await aws.waitFor()
    await page.getByLabel('Profile for github').waitFor()
    t.same(await aws.locator('option').allInnerTexts(), ['default', 'prod'])
    await aws.selectOption('aws/prod')
    await screenshot('ide-profile-picker')
    t.same(pageErrors, [])
  },
)
