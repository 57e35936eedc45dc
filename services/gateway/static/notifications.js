// The unread badge in the header and the live notification feed on every county page: one EventSource
// on the API's SSE feed (same origin, so the HttpOnly session cookie authenticates it; the feed and the
// inbox apply the person's scope). The feed starts after the newest notification the page knows — the
// one it was rendered with (data-after on <body>) or, elsewhere, the newest of an inbox read — so
// nothing between rendering and connecting is lost; a reconnect resumes with Last-Event-ID.
(function () {
  var body = document.body, county = body.dataset.county;
  if (!county || !window.EventSource) { return; }
  var api = '/api/v1/counties/' + county + '/notifications';
  var badge = document.getElementById('unread-badge');
  var seen = 0, unread = 0;
  var names = window.workbench.data('severity-names') || {};

  function setUnread(n) {
    unread = n;
    if (badge) { badge.textContent = String(n); badge.hidden = n === 0; }
    var count = document.getElementById('inbox-unread');
    if (count) { count.textContent = String(n); }
  }

  function pageLink(apiLink) {  // as pages/notifications.py page_link: a case leads to its timeline
    var m = /^\/api\/v1\/counties\/(\d{6})\/rectification-cases\/([^/]+)$/.exec(apiLink || '');
    return m ? '/counties/' + m[1] + '/rectification/' + m[2] : null;
  }

  function show(n) {  // prepend to the page's list (inbox, overview), if it has one
    var list = document.getElementById('notification-list');
    var template = document.getElementById('notification-template');
    if (!list || !template || list.dataset.live !== 'on') { return; }
    var item = template.content.firstElementChild.cloneNode(true);
    item.classList.add(n.severity);
    item.dataset.seq = n.seq;
    item.querySelector('.severity').textContent = names[n.severity] || n.severity;
    var title = item.querySelector('.title'), link = pageLink(n.link);
    if (link) {
      var a = document.createElement('a');
      a.href = link;
      a.textContent = n.title;
      title.appendChild(a);
    } else { title.textContent = n.title; }
    item.querySelector('.summary').textContent = n.summary;
    item.querySelector('small').textContent = n.occurred_on + (n.organization_name ? ' · ' + n.organization_name : '');
    var empty = list.querySelector('.empty');
    if (empty) { empty.remove(); }
    list.insertBefore(item, list.firstChild);
    var total = document.getElementById('inbox-total');
    if (total) { total.textContent = String(Number(total.textContent) + 1); }
  }

  function connect(after) {
    seen = after;
    var source = new EventSource(api + '/stream?after=' + after);
    source.addEventListener('open', function () {
      var state = document.getElementById('live-state');
      if (state) { state.hidden = false; }
      body.dataset.live = 'on';
    });
    source.addEventListener('notification', function (e) {
      var n = JSON.parse(e.data);
      if (n.seq <= seen) { return; }  // already shown (a resumed stream may repeat the backlog's edge)
      seen = n.seq;
      setUnread(unread + 1);
      show(n);
      document.dispatchEvent(new CustomEvent('workbench:notification', { detail: n }));
    });
    source.addEventListener('error', function () {
      if (source.readyState === EventSource.CLOSED) { body.dataset.live = 'closed'; }  // e.g. signed out
    });
  }

  if (body.dataset.after !== undefined) {
    setUnread(Number(body.dataset.unread || 0));
    connect(Number(body.dataset.after));
  } else {
    fetch(api + '?size=1', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (box) {
        if (!box) { return; }
        setUnread(box.unread);
        connect(box.items.length ? box.items[0].seq : 0);
      });
  }
}());
