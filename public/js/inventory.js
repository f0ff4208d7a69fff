// Inventory page: selecting a table row (click, or Enter/Space on the focused row) asks htmx to
// load its preview panel; the selected row is marked. Refresh buttons inside a row do not select it.
;(() => {
  const ROW = 'tr[data-inventory-table]'

  function select(row) {
    for (const r of document.querySelectorAll(`${ROW}.selected`)) {
      r.classList.remove('selected')
      r.removeAttribute('aria-current')
    }
    row.classList.add('selected')
    row.setAttribute('aria-current', 'true')
    row.dispatchEvent(new CustomEvent('inventory-select', { bubbles: false }))
  }

  document.addEventListener('click', (evt) => {
    const row = evt.target.closest?.(ROW)
    if (!row || evt.target.closest('button, .actions')) return
    // Plain click on the name link: stay on the page (the link is there for new tabs and no-JS use).
    if (evt.metaKey || evt.ctrlKey || evt.shiftKey || evt.button !== 0) return
    evt.preventDefault()
    select(row)
  })

  // A page opened on a selected table (its own address) shows that row in the scrolled list.
  document.addEventListener('DOMContentLoaded', () => {
    document.querySelector(`${ROW}.selected`)?.scrollIntoView({ block: 'nearest' })
  })

  document.addEventListener('keydown', (evt) => {
    if (evt.key !== 'Enter' && evt.key !== ' ') return
    const row = evt.target
    if (!(row instanceof HTMLElement) || !row.matches(ROW)) return
    evt.preventDefault()
    select(row)
  })
})()
