// Parts of the IDE chat (ide-chat.js) that hold no conversation state: HTML fragments from the
// server, the user's turn, error notes, the queued-question note, Server-Sent Events frames, and the
// live countdowns of [data-retry-at] notes.
;(() => {
  function fromHtml(html) {
    const tpl = document.createElement('template')
    tpl.innerHTML = html.trim()
    return tpl.content.firstElementChild
  }

  function errorNode(message) {
    const div = document.createElement('div')
    div.className = 'alert alert-error chat-error'
    div.setAttribute('role', 'alert')
    div.textContent = message
    return div
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

  /** The user's turn in the log. */
  function userMessage(text) {
    const article = document.createElement('article')
    article.className = 'chat-msg chat-user'
    const who = document.createElement('div')
    who.className = 'chat-who'
    who.textContent = 'You'
    const body = document.createElement('div')
    body.className = 'chat-body chat-text'
    body.textContent = text
    article.append(who, body)
    return article
  }

  function queueLabel(job) {
    if (job.prompt?.kind === 'explain') return 'Explain Query'
    if (job.prompt?.kind === 'interpret') return 'Interpret Results'
    if (job.prompt?.kind === 'changes') return 'What changed'
    return 'Your message'
  }

  /** The note under an answer: what waits for it, with a Cancel button (`onCancel`). */
  function queuedNotice(job, onCancel) {
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
    cancel.addEventListener('click', onCancel)
    node.append(' ', label, ' ', cancel)
    return node
  }

  /** Keeps every [data-retry-at] under `root()` showing the seconds left; returns start(). */
  function countdowns(root) {
    let ticker = null
    function tick() {
      const now = Date.now()
      const live = root().querySelectorAll('[data-retry-at]')
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
    return startTicker
  }

  window.stackqlChatKit = { fromHtml, errorNode, parseFrame, countdowns, userMessage, queuedNotice }
})()
