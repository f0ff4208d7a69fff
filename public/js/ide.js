// The IDE page's island: the Ace editor bound to the hidden query_text field, run/cancel/clear and
// keyboard shortcuts, and the saved-query sidebar. The other islands (ide-chat.js, ide-profiles.js,
// ide-across.js, explorer.js) reach the editor through window.stackqlEditor and the page's shared
// helpers through window.stackqlIde, defined at the end.
;(() => {
  const $ = (id) => document.getElementById(id)
  const form = $('run-form')
  if (!form) return
  const field = $('query-text')
  const EDITOR_KEY = 'stackql.ide.editor'
  const token = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? ''
  const load = (key, fallback) => {
    try {
      return JSON.parse(sessionStorage.getItem(key) ?? 'null') ?? fallback
    } catch {
      return fallback
    }
  }
  const store = (key, value) => {
    try {
      sessionStorage.setItem(key, JSON.stringify(value))
    } catch {
      // Storage full or disabled: the page still works, only the tab's memory is lost.
    }
  }

  // ---- editor -----------------------------------------------------------------------------------
  let editor = null
  const saved = load(EDITOR_KEY, null)

  function editorFailed(reason) {
    const box = $('editor-error')
    box.hidden = false
    if (reason) box.dataset.reason = String(reason)
    $('editor').dataset.state = 'failed'
    $('editor').hidden = true
    for (const id of ['run-button', 'explain-query', 'save-query']) $(id).disabled = true
  }

  function syncField() {
    field.value = editor ? editor.getValue() : field.value
    store(EDITOR_KEY, { text: field.value })
  }

  function setQuery(text) {
    if (!editor) return
    editor.setValue(text, 1)
    syncField()
    editor.focus()
  }

  try {
    const ace = window.ace
    if (!ace?.edit) throw new Error('ace.js did not load')
    ace.config.set('basePath', '/vendor/ace')
    editor = ace.edit('editor', {
      mode: 'ace/mode/sql',
      theme: 'ace/theme/sqlserver',
      minLines: 10,
      maxLines: 30,
      useWorker: false,
      showPrintMargin: false,
      fontSize: 13,
      wrap: true,
    })
    editor.commands.addCommand({
      name: 'runQuery',
      bindKey: { win: 'Ctrl-Enter', mac: 'Command-Enter|Ctrl-Enter' },
      exec: () => runQuery(),
    })
    editor.session.on('change', syncField)
    $('editor').dataset.state = 'ready'
    window.stackqlEditor = editor
    if (saved?.text) editor.setValue(saved.text, 1)
  } catch (e) {
    editorFailed(e?.message)
  }
  if (editor) field.value = editor.getValue()

  // ---- run, cancel, clear ---------------------------------------------------------------------------
  const running = () => form.classList.contains('htmx-request')
  let cancelled = false

  function runQuery() {
    if (!editor || running()) return
    syncField()
    form.requestSubmit()
  }

  form.addEventListener('submit', () => {
    cancelled = false
    syncField()
  })

  $('cancel-run').addEventListener('click', () => {
    if (!running()) return
    cancelled = true
    window.htmx?.trigger(form, 'htmx:abort')
  })

  form.addEventListener('htmx:finally:request', () => {
    if (!cancelled) return
    cancelled = false
    const results = $('results')
    if (results) {
      results.innerHTML =
        '<div class="alert alert-info" id="run-cancelled">Query cancelled: the StackQL process was stopped.</div>'
    }
  })

  $('clear-editor').addEventListener('click', () => setQuery(''))

  document.addEventListener('keydown', (evt) => {
    if (evt.key !== 'Enter' || !(evt.ctrlKey || evt.metaKey)) return
    if (evt.target.closest?.('#editor, #chat, dialog')) return
    evt.preventDefault()
    runQuery()
  })

  // ---- saved queries sidebar --------------------------------------------------------------------------
  document.addEventListener('click', (evt) => {
    const loadBtn = evt.target.closest?.('.load-query')
    if (loadBtn) {
      setQuery(loadBtn.dataset.queryText ?? '')
      return
    }
    const item = evt.target.closest?.('.library-item')
    if (!item) return
    const confirmBox = item.querySelector('.confirm-delete')
    if (evt.target.closest('.delete-query')) {
      confirmBox.hidden = false
      item.querySelector('.delete-query').hidden = true
      confirmBox.querySelector('.danger')?.focus()
    } else if (evt.target.closest('.cancel-delete')) {
      confirmBox.hidden = true
      item.querySelector('.delete-query').hidden = false
    }
  })

  const saveForm = $('save-query-form')
  saveForm.addEventListener('htmx:after:request', (evt) => {
    const status = evt.detail?.ctx?.response?.status ?? 0
    if (status >= 200 && status < 300) {
      $('save-query-dialog').close()
      saveForm.reset()
      $('save-query-error').innerHTML = ''
    }
  })
  $('save-query').addEventListener('click', () => {
    syncField()
    $('save-query-error').innerHTML = ''
  })

  window.stackqlIde = {
    /** The editor text, copied into the form's field first. */
    query() {
      syncField()
      return field.value
    },
    setQuery,
    token,
    load,
    store,
  }
})()
