// The IDE's profile picker follows the editor text: every change (debounced by htmx, 400 ms) asks
// the server which providers the text references and which profiles each has.
;(() => {
  const picker = () => document.getElementById('profile-picker')
  const refresh = () => {
    const el = picker()
    if (el && window.htmx) window.htmx.trigger(el, 'querytext')
  }
  const editor = window.stackqlEditor
  if (editor) editor.session.on('change', refresh)
  refresh()
})()
