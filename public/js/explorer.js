// The IDE sidebar's Explorer tab (a lazy ARIA tree: arrows, Home/End, Enter/Space; the tabs are
// sidebar-tabs.js), "Insert SELECT" with placeholders the cursor jumps to (Tab for the next), and the
// check before Run and Save: the statement goes to POST /explorer/check first; warnings show under
// the editor with "Run anyway", and the offending words are marked in Ace (annotations + markers).
;(() => {
  const $ = (id) => document.getElementById(id)
  const form = $('run-form')
  const tabs = $('sidebar-tabs')
  if (!form || !tabs) return
  const token = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? ''
  const editor = () => window.stackqlEditor ?? null

  // ---- tree -----------------------------------------------------------------------------------------
  const panel = $('panel-explorer')
  const groupOf = (item) => [...item.children].find((c) => c.getAttribute('role') === 'group')
  const visibleItems = () =>
    [...panel.querySelectorAll('[role="treeitem"]')].filter((el) => !el.parentElement.closest('[hidden]'))

  function focusItem(item) {
    if (!item) return
    for (const el of panel.querySelectorAll('[role="treeitem"][tabindex="0"]')) el.tabIndex = -1
    item.tabIndex = 0
    item.focus()
  }

  function setExpanded(item, open) {
    const group = groupOf(item)
    if (!group) return
    item.setAttribute('aria-expanded', String(open))
    group.hidden = !open
    if (open && group.getAttribute('hx-trigger')?.includes('explorer-open')) {
      window.htmx?.trigger(group, 'explorer-open')
    }
  }

  const toggle = (item) => setExpanded(item, item.getAttribute('aria-expanded') !== 'true')

  panel.addEventListener('click', (evt) => {
    const label = evt.target.closest?.('.tree-label')
    const item = label?.closest('[role="treeitem"]')
    if (!item) return
    focusItem(item)
    toggle(item)
  })

  panel.addEventListener('keydown', (evt) => {
    const item = evt.target
    if (item.getAttribute?.('role') !== 'treeitem') return
    const items = visibleItems()
    const i = items.indexOf(item)
    const open = item.getAttribute('aria-expanded') === 'true'
    const parent = item.parentElement.closest('[role="treeitem"]')
    const keys = {
      ArrowDown: () => focusItem(items[i + 1]),
      ArrowUp: () => focusItem(items[i - 1]),
      Home: () => focusItem(items[0]),
      End: () => focusItem(items[items.length - 1]),
      ArrowRight: () =>
        open
          ? focusItem(
              items[i + 1]?.parentElement.closest('[role="treeitem"]') === item ? items[i + 1] : undefined,
            )
          : setExpanded(item, true),
      ArrowLeft: () => (open ? setExpanded(item, false) : focusItem(parent)),
      Enter: () => toggle(item),
      ' ': () => toggle(item),
    }
    const action = keys[evt.key]
    if (!action) return
    evt.preventDefault()
    action()
  })

  // A swapped-in level keeps its node's state: focus stays usable after "Show more" and Retry.
  document.addEventListener('htmx:after:swap', () => {
    if (!panel.querySelector('[role="treeitem"][tabindex="0"]')) {
      const first = panel.querySelector('[role="treeitem"]')
      if (first) first.tabIndex = 0
    }
  })

  // ---- Insert SELECT ----------------------------------------------------------------------------------
  const PLACEHOLDER = /<[A-Za-z_][A-Za-z0-9_]*>/g

  /** Selects the next <placeholder> after the cursor (wrapping); false when there is none. */
  function nextPlaceholder(ed) {
    const text = ed.getValue()
    const doc = ed.session.doc
    const from = doc.positionToIndex(ed.getSelectionRange().end)
    const all = [...text.matchAll(PLACEHOLDER)]
    const m = all.find((x) => x.index >= from) ?? all[0]
    if (!m) return false
    const Range = window.ace.require('ace/range').Range
    const a = doc.indexToPosition(m.index)
    const b = doc.indexToPosition(m.index + m[0].length)
    ed.selection.setRange(new Range(a.row, a.column, b.row, b.column))
    return true
  }

  let tabBound = false
  function bindTab(ed) {
    if (tabBound) return
    tabBound = true
    ed.commands.addCommand({
      name: 'nextPlaceholder',
      bindKey: { win: 'Tab', mac: 'Tab' },
      // Returning false hands Tab back to Ace (indent) when no placeholder is left.
      exec: (e) => nextPlaceholder(e),
    })
  }

  document.addEventListener('click', (evt) => {
    const btn = evt.target.closest?.('.insert-select')
    const ed = editor()
    if (!btn || !ed) return
    ed.setValue(btn.dataset.sql ?? '', -1)
    bindTab(ed)
    ed.focus()
    if (!nextPlaceholder(ed)) ed.navigateFileEnd()
  })

  // ---- check before Run and Save -------------------------------------------------------------------
  const box = document.createElement('div')
  box.id = 'check-box'
  box.setAttribute('aria-live', 'polite')
  $('editor-wrap')?.after(box)
  let markers = []
  let cleanText = null
  let bypassRun = false
  let bypassSave = false

  function clearMarks() {
    const ed = editor()
    if (!ed) return
    for (const id of markers) ed.session.removeMarker(id)
    markers = []
    ed.session.clearAnnotations()
  }

  function showWarnings(warnings, html, action) {
    const ed = editor()
    clearMarks()
    box.innerHTML = html
    const anyway = box.querySelector('.check-anyway')
    if (anyway) anyway.textContent = action === 'save' ? 'Save anyway' : 'Run anyway'
    if (!ed) return
    const Range = window.ace.require('ace/range').Range
    const doc = ed.session.doc
    const annotations = []
    for (const w of warnings) {
      const a = doc.indexToPosition(w.start)
      const b = doc.indexToPosition(Math.max(w.end, w.start + 1))
      markers.push(
        ed.session.addMarker(new Range(a.row, a.column, b.row, b.column), 'check-marker', 'text', false),
      )
      annotations.push({ row: a.row, column: a.column, text: w.message, type: 'warning' })
    }
    ed.session.setAnnotations(annotations)
  }

  function proceed(action) {
    if (action === 'save') {
      bypassSave = true
      $('save-query').click()
    } else {
      bypassRun = true
      form.requestSubmit()
    }
  }

  async function check(action) {
    const ed = editor()
    const text = ed ? ed.getValue() : ($('query-text')?.value ?? '')
    if (text.trim() === '' || text === cleanText) return proceed(action)
    box.innerHTML =
      '<p class="check-status" role="status">Checking the query against the provider metadata…</p>'
    try {
      const res = await fetch('/explorer/check', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': token() },
        body: JSON.stringify({ text }),
      })
      const body = await res.json().catch(() => null)
      if (!res.ok || !body) throw new Error(body?.message ?? `HTTP ${res.status}`)
      if ((ed ? ed.getValue() : text) !== text) return // edited meanwhile: the next Run checks again
      if (body.warnings.length === 0) {
        box.innerHTML = ''
        clearMarks()
        cleanText = text
        return proceed(action)
      }
      // "Not checked" (a provider not installed yet, metadata unavailable) is a quiet note, not a
      // stop: the query runs, and the note says why it was not checked.
      if (body.warnings.every((w) => w.kind === 'unchecked')) {
        clearMarks()
        const note = document.createElement('p')
        note.className = 'check-status hint'
        note.setAttribute('role', 'status')
        note.textContent = `Not checked: ${body.warnings.map((w) => w.message).join(' ')}`
        box.replaceChildren(note)
        return proceed(action)
      }
      showWarnings(body.warnings, body.html, action)
      box.querySelector('.check-anyway')?.addEventListener('click', () => {
        box.innerHTML = ''
        proceed(action)
      })
    } catch (e) {
      box.innerHTML = ''
      const div = document.createElement('div')
      div.className = 'alert alert-warn check-warnings'
      div.setAttribute('role', 'alert')
      div.textContent = `The query could not be checked before running (${e?.message ?? e}). `
      const anyway = document.createElement('button')
      anyway.type = 'button'
      anyway.className = 'check-anyway'
      anyway.textContent = action === 'save' ? 'Save anyway' : 'Run anyway'
      anyway.addEventListener('click', () => {
        box.innerHTML = ''
        proceed(action)
      })
      div.append(anyway)
      box.append(div)
    }
  }

  box.addEventListener('click', (evt) => {
    if (evt.target.closest('.check-dismiss')) {
      box.innerHTML = ''
      clearMarks()
    }
  })

  form.addEventListener('htmx:before:request', (evt) => {
    if (evt.target !== form) return
    if (bypassRun) {
      bypassRun = false
      return
    }
    evt.preventDefault()
    check('run')
  })

  document.addEventListener(
    'click',
    (evt) => {
      if (!evt.target.closest?.('#save-query')) return
      if (bypassSave) {
        bypassSave = false
        return
      }
      evt.preventDefault()
      evt.stopPropagation()
      check('save')
    },
    true,
  )

  // Offsets belong to the text they were computed for: any edit clears the marks.
  const watch = () => {
    const ed = editor()
    if (!ed) return setTimeout(watch, 100)
    ed.session.on('change', () => {
      if (markers.length || box.firstChild) {
        clearMarks()
        box.innerHTML = ''
      }
    })
  }
  watch()
})()
