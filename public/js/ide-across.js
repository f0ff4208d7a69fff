// "Run across" in the IDE: when profiles are ticked under Run across, Run (button or Ctrl+Enter)
// posts the form to /run/across and reads its event stream with fetch: `progress` replaces the
// results area with the slices' states (what it is waiting for), `done` with the final results
// (the union with _profile and one status line per profile). Cancel aborts the request, which
// stops every slice's StackQL process on the server.
;(() => {
  const form = document.getElementById('run-form')
  if (!form) return
  const token = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? ''
  let inFlight = null

  const ticked = () => [...form.querySelectorAll('input[name="across"]:checked')]

  function replaceResults(html) {
    const current = document.getElementById('results')
    if (!current || !html) return
    const holder = document.createElement('div')
    holder.innerHTML = html
    const next = holder.querySelector('#results') ?? holder.firstElementChild
    if (!next) return
    current.replaceWith(next)
    window.htmx?.process(next)
  }

  /** Parses `event:` / `data:` frames out of the text read so far; returns the unparsed rest. */
  function frames(buffer, onEvent) {
    let at = buffer.indexOf('\n\n')
    while (at >= 0) {
      const frame = buffer.slice(0, at)
      buffer = buffer.slice(at + 2)
      let event = 'message'
      const data = []
      for (const line of frame.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
        else if (line === 'data:') data.push('')
      }
      onEvent(event, data.join('\n'))
      at = buffer.indexOf('\n\n')
    }
    return buffer
  }

  async function runAcross() {
    if (inFlight) return
    const field = document.getElementById('query-text')
    if (window.stackqlEditor && field) field.value = window.stackqlEditor.getValue()
    const body = new URLSearchParams(new FormData(form))
    document.getElementById('run-across')?.removeAttribute('open')
    document.getElementById('run-across')?.removeAttribute('open')
    inFlight = new AbortController()
    form.classList.add('htmx-request', 'across-running')
    document.getElementById('run-button')?.setAttribute('disabled', '')
    try {
      const res = await fetch('/run/across', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'text/event-stream, text/html',
          'hx-request': 'true',
          'hx-request-type': 'partial',
          'x-csrf-token': token(),
        },
        body,
        signal: inFlight.signal,
      })
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || !res.body) {
        replaceResults(await res.text())
        return
      }
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer = frames(buffer + decoder.decode(value, { stream: true }), (_event, html) =>
          replaceResults(html),
        )
      }
    } catch (e) {
      if (inFlight?.signal.aborted) {
        replaceResults(
          '<section id="results" class="results" aria-live="polite" aria-label="Results"><div class="alert alert-info" id="run-cancelled">Run across cancelled: every profile’s StackQL process was stopped.</div></section>',
        )
      } else {
        replaceResults(
          `<section id="results" class="results" aria-live="polite" aria-label="Results"><pre class="alert alert-error" role="alert">Run across failed: ${String(e?.message ?? e).replace(/[<>&]/g, '')}. Check your connection and run it again.</pre></section>`,
        )
      }
    } finally {
      inFlight = null
      form.classList.remove('htmx-request', 'across-running')
      document.getElementById('run-button')?.removeAttribute('disabled')
    }
  }

  // Capture phase: this runs before htmx's own submit handling, and only takes over when ticked.
  document.addEventListener(
    'submit',
    (evt) => {
      if (evt.target !== form || ticked().length === 0) return
      evt.preventDefault()
      evt.stopImmediatePropagation()
      runAcross()
    },
    true,
  )

  document.getElementById('cancel-run')?.addEventListener('click', () => inFlight?.abort())

  // One provider at a time; "all profiles" ticks each; a ticked provider's single-profile select is off.
  form.addEventListener('change', (evt) => {
    const box = evt.target
    if (!(box instanceof HTMLInputElement) || box.type !== 'checkbox') return
    const provider = box.dataset.provider
    if (!provider) return
    if (box.classList.contains('across-all')) {
      for (const b of form.querySelectorAll(`input[name="across"][data-provider="${provider}"]`))
        b.checked = box.checked
    }
    if (box.checked) {
      for (const b of form.querySelectorAll('input[name="across"], input.across-all')) {
        if (b.dataset.provider !== provider) b.checked = false
      }
    }
    for (const all of form.querySelectorAll('input.across-all')) {
      const boxes = [
        ...form.querySelectorAll(`input[name="across"][data-provider="${all.dataset.provider}"]`),
      ]
      all.checked = boxes.length > 0 && boxes.every((b) => b.checked)
    }
    for (const select of form.querySelectorAll('select[name="profile"]')) {
      const p = select.id.replace(/^profile-/, '')
      select.disabled = form.querySelector(`input[name="across"][data-provider="${p}"]:checked`) !== null
    }
    const n = ticked().length
    const run = document.getElementById('run-button')
    if (run && !inFlight) run.firstChild.textContent = n ? `Run across ${n} ` : 'Run '
    const toggle = document.getElementById('run-across-toggle')
    if (toggle) toggle.textContent = n ? `Run across (${n})` : 'Run across…'
  })
})()
