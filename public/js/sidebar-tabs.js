// The IDE sidebar's tabs (Saved queries / Explorer): an ARIA tablist — click, or Left/Right between
// tabs —, the choice remembered for the session; opening the Explorer the first time loads its tree
// (htmx trigger `explorer-open`, explorer.js handles the tree itself).
;(() => {
  const $ = (id) => document.getElementById(id)
  const tabs = $('sidebar-tabs')
  if (!tabs) return
  const TAB_KEY = 'stackql.ide.sidebar'
  const tabButtons = [...tabs.querySelectorAll('[role="tab"]')]
  function selectTab(tab, focus) {
    for (const b of tabButtons) {
      const on = b === tab
      b.setAttribute('aria-selected', String(on))
      b.tabIndex = on ? 0 : -1
      $(b.getAttribute('aria-controls')).hidden = !on
    }
    document.querySelector('.ide-left')?.classList.toggle('explorer-open', tab.id === 'tab-explorer')
    if (focus) tab.focus()
    try {
      sessionStorage.setItem(TAB_KEY, tab.id)
    } catch {}
    if (tab.id === 'tab-explorer') {
      const root = $('explorer')
      if (root?.hasAttribute('hx-trigger')) window.htmx?.trigger(root, 'explorer-open')
    }
  }
  tabs.addEventListener('click', (evt) => {
    const tab = evt.target.closest?.('[role="tab"]')
    if (tab) selectTab(tab, false)
  })
  tabs.querySelector('[role="tablist"]').addEventListener('keydown', (evt) => {
    const i = tabButtons.indexOf(document.activeElement)
    if (i < 0) return
    const step = { ArrowRight: 1, ArrowLeft: -1 }[evt.key]
    if (!step) return
    evt.preventDefault()
    selectTab(tabButtons[(i + step + tabButtons.length) % tabButtons.length], true)
  })
  let remembered = null
  try {
    remembered = sessionStorage.getItem(TAB_KEY)
  } catch {}
  if (remembered === 'tab-explorer') selectTab($('tab-explorer'), false)
})()
