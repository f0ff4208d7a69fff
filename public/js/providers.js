// Provider Config page: the Add Mapping dialog suggests the chosen provider's usual environment
// variables and a matching secret key name, clears its error when reopened, and closes itself
// once a mapping was saved.
;(() => {
  const form = () => document.getElementById('add-mapping-form')

  function envVarsByProvider() {
    try {
      return JSON.parse(form()?.dataset.envVars ?? '{}')
    } catch {
      return {}
    }
  }

  function suggestEnvVars() {
    const f = form()
    if (!f) return
    const provider = f.elements.provider.value.trim().toLowerCase()
    const known = envVarsByProvider()
    const names = known[provider] ?? [...new Set(Object.values(known).flat())]
    const list = document.getElementById('env-var-suggestions')
    list.replaceChildren(
      ...names.map((n) => {
        const o = document.createElement('option')
        o.value = n
        return o
      }),
    )
    const hint = document.getElementById('env-var-hint')
    hint.textContent = known[provider]
      ? `${provider} usually reads: ${known[provider].join(', ')}.`
      : 'The variable the provider reads its credential from.'
  }

  function suggestSecretKey() {
    const f = form()
    if (!f) return
    const v = f.elements.env_var_name.value.trim()
    f.elements.secret_key.placeholder = v ? v.toLowerCase().replace(/_/g, '-') : ''
  }

  document.addEventListener('input', (evt) => {
    if (evt.target?.id === 'mapping-provider') suggestEnvVars()
    if (evt.target?.id === 'mapping-env-var') suggestSecretKey()
  })

  // A fresh dialog each time it opens: no stale error from the last attempt.
  document.addEventListener(
    'close',
    (evt) => {
      if (evt.target?.id === 'add-mapping-dialog') {
        const box = document.getElementById('mapping-form-error')
        if (box) box.replaceChildren()
      }
    },
    true,
  )

  document.addEventListener('htmx:after:request', (evt) => {
    const f = form()
    if (!f || evt.target !== f) return
    const status = evt.detail?.ctx?.response?.status ?? 0
    if (status >= 200 && status < 300) {
      f.reset()
      suggestEnvVars()
      suggestSecretKey()
      document.getElementById('mapping-form-error')?.replaceChildren()
      f.closest('dialog')?.close()
    }
  })
})()
