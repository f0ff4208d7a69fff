// Page-wide behaviour shared by every area: send the CSRF token with each htmx request, and show
// a visible message when a request cannot reach the server at all.
;(() => {
  const token = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? ''

  document.addEventListener('htmx:config:request', (evt) => {
    const headers = evt.detail?.ctx?.request?.headers
    if (headers) headers['x-csrf-token'] = token()
  })

  document.addEventListener('htmx:error', (evt) => {
    const err = evt.detail?.error
    // HTTP error statuses are swapped as fragments; only network failures land here without a response.
    if (err && !evt.detail?.ctx?.response) {
      showToast('The server could not be reached. Check that the app is running, then try again.')
    }
  })

  function showToast(message) {
    let box = document.getElementById('toast')
    if (!box) {
      box = document.createElement('div')
      box.id = 'toast'
      box.className = 'toast'
      box.setAttribute('role', 'alert')
      document.body.appendChild(box)
    }
    box.textContent = message
    box.hidden = false
    clearTimeout(showToast.timer)
    showToast.timer = setTimeout(() => {
      box.hidden = true
    }, 8000)
  }
  window.stackqlToast = showToast

  // <dialog> openers: any element with data-open-dialog="<id>" opens that dialog; data-close-dialog closes its own.
  document.addEventListener('click', (evt) => {
    const opener = evt.target.closest?.('[data-open-dialog]')
    if (opener) {
      const dlg = document.getElementById(opener.getAttribute('data-open-dialog'))
      if (dlg && typeof dlg.showModal === 'function') {
        evt.preventDefault()
        dlg.showModal()
        dlg.querySelector('[autofocus], input, select, textarea')?.focus()
      }
      return
    }
    const closer = evt.target.closest?.('[data-close-dialog]')
    if (closer) {
      evt.preventDefault()
      closer.closest('dialog')?.close()
    }
  })
})()
