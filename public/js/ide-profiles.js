// The IDE's profile picker follows the editor text: a change (debounced here, 400 ms) asks the
// server which providers the text references and which profiles each has. The debounce lives here,
// not in hx-trigger's delay: the picker replaces itself with each answer, and a delay pending on the
// replaced element would be lost — so the event goes to the picker present when it fires, and
// hx-sync="replace" lets the newest request win over one still in flight.
;(() => {
  const picker = () => document.getElementById('profile-picker')
  let timer
  const refresh = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      const el = picker()
      if (el && window.htmx) window.htmx.trigger(el, 'querytext')
    }, 400)
  }
  const editor = window.stackqlEditor
  if (editor) editor.session.on('change', refresh)
  refresh()
})()
