// Small helpers shared by the pages: writes with the session cookie send the page's CSRF token.
window.workbench = {
  csrf: function () { return document.querySelector('meta[name="csrf-token"]').content; },
  pct: function (v) { return v === null || v === undefined ? '—' : (v * 100).toFixed(1) + '%'; },
  data: function (id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
};
