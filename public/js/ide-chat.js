// The IDE's AI chat: the conversation (kept in this tab's sessionStorage and rendered again by the
// server on every view), answers streamed over SSE with fetch, one at a time (Explain / Interpret /
// What changed / Send during an answer wait in a visible queue), Stop and New chat.
;(() => {
  const $ = (id) => document.getElementById(id)
  const ide = window.stackqlIde
  const kit = window.stackqlChatKit
  if (!ide || !kit || !$('chat-form')) return
  const { token, load, store } = ide
  const { fromHtml, errorNode, parseFrame } = kit
  const CHAT_KEY = 'stackql.ide.chat'
  const chat = load(CHAT_KEY, { mode: 'query', messages: [] })
  if (!Array.isArray(chat.messages)) chat.messages = []
  const input = $('chat-input')
  const stopBtn = $('chat-stop')
  let inFlight = null
  const log = () => $('chat-log')
  const startTicker = kit.countdowns(log)
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

  const userBubble = (text) => append(kit.userMessage(text))

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

  // ---- one answer at a time; Explain / Interpret / Send during an answer wait in a visible queue --
  let queued = null
  function enqueue(job) {
    if (queued) {
      queued.node.remove()
    }
    const node = kit.queuedNotice(job, () => {
      node.remove()
      if (queued?.node === node) queued = null
    })
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
    ask({ prompt: { kind: 'explain', query: ide.query() }, mode: 'query' })
  })

  document.addEventListener('click', (evt) => {
    const interpret = evt.target.closest?.('.interpret-results')
    if (interpret) {
      ask({ prompt: { kind: 'interpret', result_id: interpret.dataset.resultId }, mode: 'results' })
      return
    }
    const insert = evt.target.closest?.('.insert-sql')
    if (insert) ide.setQuery(insert.dataset.sql ?? '')
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
