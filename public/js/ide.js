// The IDE page's island: the Ace editor bound to the hidden query_text field, run/cancel/clear and
// keyboard shortcuts, the saved-query sidebar, and the AI chat (streamed over SSE with fetch; the
// conversation is kept in this tab's sessionStorage and re-rendered by the server on every view).
;(() => {
  const $ = (id) => document.getElementById(id)
  const form = $('run-form')
  if (!form) return
  const field = $('query-text')
  const EDITOR_KEY = 'stackql.ide.editor'
  const CHAT_KEY = 'stackql.ide.chat'
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

  // ---- chat ---------------------------------------------------------------------------------------
  const chat = load(CHAT_KEY, { mode: 'query', messages: [] })
  if (!Array.isArray(chat.messages)) chat.messages = []
  const input = $('chat-input')
  const stopBtn = $('chat-stop')
  let inFlight = null

  const log = () => $('chat-log')
  const saveChat = () => store(CHAT_KEY, chat)

  function setMode(mode) {
    chat.mode = mode === 'results' ? 'results' : 'query'
    for (const radio of document.querySelectorAll('input[name="chat-mode"]'))
      radio.checked = radio.value === chat.mode
    saveChat()
  }
  setMode(chat.mode)
  for (const radio of document.querySelectorAll('input[name="chat-mode"]')) {
    radio.addEventListener('change', () => setMode(radio.value))
  }

  function fromHtml(html) {
    const tpl = document.createElement('template')
    tpl.innerHTML = html.trim()
    return tpl.content.firstElementChild
  }

  function scrollLog() {
    const el = log()
    el.scrollTop = el.scrollHeight
  }

  function append(node) {
    log().querySelector('.chat-empty')?.remove()
    log().appendChild(node)
    scrollLog()
    return node
  }

  function userBubble(text) {
    const article = document.createElement('article')
    article.className = 'chat-msg chat-user'
    const who = document.createElement('div')
    who.className = 'chat-who'
    who.textContent = 'You'
    const body = document.createElement('div')
    body.className = 'chat-body chat-text'
    body.textContent = text
    article.append(who, body)
    return append(article)
  }

  function errorNode(message) {
    const div = document.createElement('div')
    div.className = 'alert alert-error chat-error'
    div.setAttribute('role', 'alert')
    div.textContent = message
    return div
  }

  async function post(url, body, accept) {
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept,
        'hx-request': 'true',
        'hx-request-type': 'partial',
        'x-csrf-token': token(),
      },
      body: JSON.stringify(body),
      signal: inFlight?.signal,
    })
  }

  /** The conversation as the API wants it: answered turns only, consecutive turns of one role merged. */
  function apiMessages() {
    const out = []
    for (const m of chat.messages) {
      if (!m.content) continue
      const last = out[out.length - 1]
      if (last && last.role === m.role) last.content += `\n\n${m.content}`
      else out.push({ role: m.role, content: m.content })
    }
    return out
  }

  function parseFrame(block) {
    let event = 'message'
    const data = []
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    return { event, data: data.join('\n') }
  }

  // ---- countdowns: every [data-retry-at] in the chat shows the seconds left, live --------------
  let ticker = null
  function tick() {
    const now = Date.now()
    const live = log().querySelectorAll('[data-retry-at]')
    for (const el of live) {
      const left = Math.ceil((Number(el.dataset.retryAt) - now) / 1000)
      const out = el.querySelector('.countdown')
      if (!out) continue
      const waiting = el.classList.contains('chat-wait')
      if (left > 0) out.textContent = waiting ? `Next attempt in ${left} s.` : `(${left} s left)`
      else out.textContent = waiting ? 'Retrying now…' : '(you can ask again now)'
    }
    if (live.length === 0) {
      clearInterval(ticker)
      ticker = null
    }
  }
  function startTicker() {
    tick()
    ticker ??= setInterval(tick, 250)
  }

  // ---- one answer at a time; Explain / Interpret / Send during an answer wait in a visible queue --
  let queued = null
  function queueLabel(job) {
    if (job.prompt?.kind === 'explain') return 'Explain Query'
    if (job.prompt?.kind === 'interpret') return 'Interpret Results'
    if (job.prompt?.kind === 'changes') return 'What changed'
    return 'Your message'
  }
  function enqueue(job) {
    if (queued) {
      queued.node.remove()
    }
    const node = document.createElement('div')
    node.className = 'alert alert-info chat-queued'
    node.setAttribute('role', 'status')
    const label = document.createElement('span')
    label.textContent = `${queueLabel(job)} is queued: it will be asked as soon as the current answer finishes (press Stop to end that answer now).`
    const cancel = document.createElement('button')
    cancel.type = 'button'
    cancel.className = 'link-button chat-queued-cancel'
    cancel.textContent = 'Cancel'
    cancel.setAttribute('aria-label', `Cancel the queued ${queueLabel(job)}`)
    cancel.addEventListener('click', () => {
      node.remove()
      if (queued?.node === node) queued = null
    })
    node.append(' ', label, ' ', cancel)
    queued = { job, node }
    append(node)
  }
  function runQueued() {
    if (!queued) return
    const { job, node } = queued
    queued = null
    node.remove()
    ask(job)
  }

  const BUBBLE =
    '<article class="chat-msg chat-assistant streaming"><div class="chat-who">Assistant</div><ol class="chat-steps" aria-label="Lookups" hidden></ol><div class="chat-status"></div><div class="chat-body markdown"><span class="typing" aria-label="Waiting for the answer">…</span></div></article>'

  async function ask(job) {
    if (inFlight) {
      enqueue(job)
      return
    }
    const { text, prompt, mode } = job
    if (mode) setMode(mode)
    const messages = apiMessages()
    if (text) {
      chat.messages.push({ role: 'user', content: text })
      saveChat()
      userBubble(text)
      const last = messages[messages.length - 1]
      if (last?.role === 'user') last.content += `\n\n${text}`
      else messages.push({ role: 'user', content: text })
    }
    inFlight = new AbortController()
    stopBtn.hidden = false
    let bubble = null
    const finish = (entry, replacement) => {
      chat.messages.push(entry)
      saveChat()
      if (replacement && bubble) bubble.replaceWith(replacement)
      bubble?.classList.remove('streaming')
      if (replacement) startTicker()
    }
    const status = () => bubble?.querySelector('.chat-status')
    try {
      const res = await post('/chat', { mode: chat.mode, messages, prompt }, 'text/event-stream')
      if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const body = await res.json().catch(() => null)
        const message = body?.message ?? `The assistant could not answer (HTTP ${res.status}): try again.`
        append(errorNode(message))
        chat.messages.push({ role: 'assistant', content: '', error: message })
        saveChat()
        return
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let cut = buffer.indexOf('\n\n')
        while (cut >= 0) {
          const { event, data } = parseFrame(buffer.slice(0, cut))
          buffer = buffer.slice(cut + 2)
          cut = buffer.indexOf('\n\n')
          if (event === 'start') {
            const { prompt: sent } = JSON.parse(data)
            if (sent) {
              chat.messages.push({ role: 'user', content: sent })
              saveChat()
              userBubble(sent)
            }
            bubble = append(fromHtml(BUBBLE))
            // A queued notice stays last, under the answer it waits for.
            if (queued) log().appendChild(queued.node)
          } else if (!bubble) {
            // events only make sense inside an answer
          } else if (event === 'render') {
            status().innerHTML = ''
            bubble.querySelector('.chat-body').innerHTML = data
            scrollLog()
          } else if (event === 'step-start' || event === 'step') {
            status().innerHTML = ''
            const list = bubble.querySelector('.chat-steps')
            list.hidden = false
            const pending = list.querySelector('.pending')
            if (event === 'step' && pending) pending.replaceWith(fromHtml(data))
            else list.appendChild(fromHtml(data))
            scrollLog()
          } else if (event === 'wait') {
            status().innerHTML = data
            startTicker()
            scrollLog()
          } else if (event === 'check') {
            bubble.querySelector('.typing')?.remove()
            bubble.appendChild(fromHtml(data))
            scrollLog()
          } else if (event === 'error') {
            status().innerHTML = ''
            bubble.querySelector('.typing')?.remove()
            bubble.appendChild(fromHtml(data))
            startTicker()
            scrollLog()
          } else if (event === 'done') {
            const { content, error, steps, check, html } = JSON.parse(data)
            finish({ role: 'assistant', content, error, steps, check }, fromHtml(html))
            bubble = null
            scrollLog()
          }
        }
      }
      if (bubble)
        finish(
          { role: 'assistant', content: '', error: 'The answer stopped before it finished: try again.' },
          null,
        )
    } catch (e) {
      const stopped = e?.name === 'AbortError'
      const message = stopped
        ? 'Stopped.'
        : 'The assistant could not be reached: check that the app is running, then try again.'
      if (bubble) {
        bubble.querySelector('.typing')?.remove()
        status().innerHTML = ''
        bubble.appendChild(errorNode(message))
        finish({ role: 'assistant', content: '', error: message }, null)
      } else {
        append(errorNode(message))
      }
    } finally {
      inFlight = null
      stopBtn.hidden = true
      runQueued()
    }
  }

  $('chat-form').addEventListener('submit', (evt) => {
    evt.preventDefault()
    const text = input.value.trim()
    if (!text) return
    input.value = ''
    ask({ text })
  })
  input.addEventListener('keydown', (evt) => {
    if (evt.key === 'Enter' && !evt.shiftKey && !evt.isComposing) {
      evt.preventDefault()
      $('chat-form').requestSubmit()
    }
  })
  stopBtn.addEventListener('click', () => inFlight?.abort())
  $('chat-clear').addEventListener('click', () => {
    queued?.node.remove()
    queued = null
    inFlight?.abort()
    inFlight = null // the render below must not ride on the aborted answer's signal
    chat.messages = []
    saveChat()
    post('/chat/render', { messages: [] }, 'text/html')
      .then((res) => res.text())
      .then((html) => log().replaceWith(fromHtml(html)))
      .catch(() => {})
  })

  $('explain-query').addEventListener('click', () => {
    syncField()
    ask({ prompt: { kind: 'explain', query: field.value }, mode: 'query' })
  })

  document.addEventListener('click', (evt) => {
    const interpret = evt.target.closest?.('.interpret-results')
    if (interpret) {
      ask({ prompt: { kind: 'interpret', result_id: interpret.dataset.resultId }, mode: 'results' })
      return
    }
    const insert = evt.target.closest?.('.insert-sql')
    if (insert) setQuery(insert.dataset.sql ?? '')
  })

  // The history renders on every view of the tab: the server renders the stored messages again.
  const historyShown =
    chat.messages.length > 0
      ? post('/chat/render', { messages: chat.messages }, 'text/html')
          .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))))
          .then((html) => {
            log().replaceWith(fromHtml(html))
            scrollLog()
          })
          .catch(() => append(errorNode('The saved conversation could not be shown: start a new chat.')))
      : Promise.resolve()

  // "What changed" (Inventory Changes view, Schedules) links here with ?what_changed=<run id>: asked
  // once the history is shown (it replaces the log), then the parameter is dropped so a reload does not ask again.
  const whatChanged = new URLSearchParams(location.search).get('what_changed')
  if (whatChanged && /^[1-9][0-9]{0,15}$/.test(whatChanged)) {
    const url = new URL(location.href)
    url.searchParams.delete('what_changed')
    history.replaceState(history.state, '', url)
    historyShown.then(() =>
      ask({ prompt: { kind: 'changes', run_id: Number(whatChanged) }, mode: 'results' }),
    )
  }
})()
