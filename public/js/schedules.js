// Schedules page behaviour htmx does not cover: close a dialog when its form succeeded (and reset
// the New Schedule form), clear a dialog's old error on resubmit, and show a loading placeholder
// instead of the previous schedule's content when the edit/delete dialogs open again; key column
// suggestions that toggle a column in the Key columns field.
;(() => {
  if (window.stackqlSchedules) return
  window.stackqlSchedules = true

  const placeholders = new Map()

  // Only the submitting form / confirming button itself: the preview input inside the form must not close it.
  const closeOnSuccess = (elt) => (elt?.hasAttribute?.('data-close-on-success') ? elt : null)

  document.addEventListener('htmx:before:request', (evt) => {
    const source = evt.detail?.ctx?.sourceElement
    // A new action on the table replaces the previous action's error; polling leaves it alone.
    if (source?.closest?.('#schedules-table') && source.tagName === 'BUTTON') {
      const alert = document.getElementById('schedules-alert')
      if (alert) alert.textContent = ''
    }
    const src = closeOnSuccess(source)
    const dialog = src?.closest('dialog')
    const slot = dialog?.querySelector('.dialog-error')
    if (slot) slot.textContent = ''
  })

  document.addEventListener('htmx:after:request', (evt) => {
    const ctx = evt.detail?.ctx
    const src = closeOnSuccess(ctx?.sourceElement)
    if (!src || !ctx.response || ctx.response.status >= 400) return
    const dialog = src.closest('dialog')
    if (src.hasAttribute('data-reset-on-success') && src.tagName === 'FORM') {
      src.reset()
      const preview = src.querySelector('.cron-preview')
      const initial = preview && placeholders.get(preview.id)
      if (preview && initial) preview.innerHTML = initial
    }
    // The reset picked the first query again: its key suggestions follow.
    src.querySelector('#new-schedule-query')?.dispatchEvent(new Event('change'))
    dialog?.close()
  })

  // Remember the empty preview of the New Schedule form so a reset can restore it.
  const remember = () => {
    for (const el of document.querySelectorAll('#new-schedule-form .cron-preview')) {
      if (!placeholders.has(el.id)) placeholders.set(el.id, el.innerHTML)
    }
  }

  // The edit and delete dialogs load their content per schedule: blank them when they close.
  const loading = '<p class="muted"><span class="spinner"></span> Loading…</p>'
  const resetOnClose = (id) => {
    const dialog = document.getElementById(id)
    if (!dialog || dialog.dataset.bound) return
    dialog.dataset.bound = 'true'
    dialog.addEventListener('close', () => {
      const body = dialog.firstElementChild
      const title = body?.querySelector('h2')?.outerHTML ?? ''
      if (body) body.innerHTML = title + loading
    })
  }

  // Move focus into a per-schedule dialog's content once it has loaded (its [autofocus] element).
  document.addEventListener('htmx:after:swap', () => {
    for (const id of ['edit-schedule-dialog', 'delete-schedule-dialog']) {
      const dialog = document.getElementById(id)
      if (!dialog?.open) continue
      const active = document.activeElement
      if (active && active !== dialog && dialog.contains(active) && active.matches('input, select, textarea'))
        continue
      dialog.querySelector('[autofocus]')?.focus()
    }
  })

  // Key column suggestions: a click adds the column to the comma-separated field (or removes it);
  // the field stays free text, and each suggestion shows whether the field holds it (aria-pressed).
  const keysIn = (field) =>
    field.value
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
  const syncSuggestions = (box) => {
    const field = box && document.getElementById(box.dataset.keysField)
    if (!field) return
    const keys = keysIn(field)
    for (const b of box.querySelectorAll('.key-suggestion'))
      b.setAttribute('aria-pressed', String(keys.includes(b.dataset.key)))
  }
  document.addEventListener('click', (evt) => {
    const button = evt.target.closest?.('.key-suggestion')
    const box = button?.closest('.key-suggestions')
    const field = box && document.getElementById(box.dataset.keysField)
    if (!field) return
    const keys = keysIn(field)
    const key = button.dataset.key
    field.value = (keys.includes(key) ? keys.filter((k) => k !== key) : [...keys, key]).join(', ')
    field.dispatchEvent(new Event('input', { bubbles: true }))
    syncSuggestions(box)
  })
  document.addEventListener('input', (evt) => {
    if (evt.target.name !== 'key_columns') return
    for (const box of document.querySelectorAll(`.key-suggestions[data-keys-field="${evt.target.id}"]`))
      syncSuggestions(box)
  })
  document.addEventListener('htmx:after:swap', () => {
    for (const box of document.querySelectorAll('.key-suggestions')) syncSuggestions(box)
  })

  const init = () => {
    remember()
    resetOnClose('edit-schedule-dialog')
    resetOnClose('delete-schedule-dialog')
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
