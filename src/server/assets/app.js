/*
 * banshi portal search app. No framework, no build step, no network access beyond this origin.
 *
 * The URL is the state: /?q=营业执照&kind=guide&department=…&region=…&audience=…&max_days=5&page=2
 * (filters repeatable). Searches push history entries; back/forward re-render from the URL.
 *
 * Element contract (stable ids/classes for browser tests):
 *   #search-form                    the search <form>
 *   #q                              the query <input role=combobox>; aria-expanded,
 *                                   aria-activedescendant follow the list
 *   #suggestions                    <ul role=listbox>; items li[role=option] (id "sug-N",
 *                                   aria-selected="true" on the active one, data-title)
 *   #summary                        "共 N 条结果，用时 X 毫秒" (role=status)
 *   #results                        <ol>; items li.hit, each with
 *                                     .hit-title a   link to /docs/{encodeURIComponent(id)}?q=…
 *                                     .snippet       highlighted text (<em>)
 *                                     .badge-kind    kind label (class kind-{kind}, data-kind)
 *                                     .badge-days    "承诺时限 N 个工作日" or "即办" (only when known)
 *                                     .dept          department (only when known)
 *                                     .region, .code, .updated (only when known)
 *   #facets                         filters; buttons .facet[data-field][data-value] with
 *                                   aria-pressed="true|false" and a .count; fields: kind,
 *                                   department, region, audience; select #max-days;
 *                                   button .facet-clear clears all filters
 *   #pager                          buttons .page[data-page] (aria-current="page" on the
 *                                   current one), .prev and .next (data-page, disabled at ends)
 *   #empty                          no-results state; "did you mean" links .did-you-mean a
 *                                   (data-q); button .clear-filters when filters are on
 *   #error                          error state (role=alert); button .retry
 *   #intro                          shown when there is no query
 *   body.loading                    while a search is in flight; #results[aria-busy]
 */
(function () {
  'use strict';

  var PAGE_SIZE = 10;
  var MAX_OFFSET = 10000;
  var SUGGEST_DELAY_MS = 120;
  var FIELDS = ['kind', 'department', 'region', 'audience'];
  var FIELD_LABELS = { kind: '类型', department: '实施部门', region: '行政区划', audience: '服务对象' };
  var KIND_LABELS = {
    law: '法律法规',
    guide: '办事指南',
    material: '申请材料',
    timeline: '办理时限',
    notice: '通知公告'
  };
  var FACET_COLLAPSED = 8;
  var MAX_DAYS_OPTIONS = [
    ['', '不限'],
    ['0', '即办'],
    ['5', '5 个工作日内'],
    ['10', '10 个工作日内'],
    ['20', '20 个工作日内'],
    ['30', '30 个工作日内']
  ];

  var els = {};
  var current = null; // the state being shown
  var searchCtl = null; // AbortController of the search in flight
  var searchSeq = 0;
  var expanded = {}; // facet field → show all values
  var lastFacets = {}; // facets of the response being shown
  var lastDistinct = {}; // distinct values per facet field (the response lists at most 100)

  // ---------- state <-> URL ----------

  function emptyState() {
    return { q: '', kind: [], department: [], region: [], audience: [], max_days: '', page: 1 };
  }

  function stateFromUrl() {
    var p = new URLSearchParams(window.location.search);
    var s = emptyState();
    s.q = (p.get('q') || '').trim();
    FIELDS.forEach(function (f) {
      p.getAll(f).forEach(function (v) {
        if (v !== '' && s[f].indexOf(v) < 0) s[f].push(v);
      });
    });
    var md = p.get('max_days');
    if (md !== null && /^\d+$/.test(md)) s.max_days = md;
    var page = parseInt(p.get('page') || '1', 10);
    s.page = page > 0 && isFinite(page) ? Math.min(page, maxPage()) : 1;
    return s;
  }

  function maxPage() {
    return Math.floor(MAX_OFFSET / PAGE_SIZE) + 1;
  }

  function stateToQuery(s, forApi) {
    var p = new URLSearchParams();
    p.set('q', s.q);
    FIELDS.forEach(function (f) {
      s[f].forEach(function (v) { p.append(f, v); });
    });
    if (s.max_days !== '') p.set('max_days', s.max_days);
    if (forApi) {
      p.set('limit', String(PAGE_SIZE));
      p.set('offset', String((s.page - 1) * PAGE_SIZE));
    } else if (s.page > 1) {
      p.set('page', String(s.page));
    }
    return p.toString();
  }

  function pageUrl(s) {
    return s.q ? '/?' + stateToQuery(s, false) : '/';
  }

  function copyState(s) {
    var c = emptyState();
    c.q = s.q;
    FIELDS.forEach(function (f) { c[f] = s[f].slice(); });
    c.max_days = s.max_days;
    c.page = s.page;
    return c;
  }

  function hasFilters(s) {
    return s.max_days !== '' || FIELDS.some(function (f) { return s[f].length > 0; });
  }

  /** Show `s`, adding a history entry when `push`. */
  function navigate(s, push) {
    if (push) {
      var url = pageUrl(s);
      if (url !== window.location.pathname + window.location.search) {
        window.history.pushState(null, '', url);
      }
    }
    render(s);
  }

  // ---------- DOM helpers ----------

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  /**
   * Append server-highlighted HTML (escaped text with <em> tags) to `el`, keeping only <em>:
   * anything else becomes text. The API already escapes; this is defence in depth.
   * A <template>'s content is inert: nothing in it loads or runs.
   */
  function appendHighlighted(el, html) {
    var t = document.createElement('template');
    t.innerHTML = String(html || '');
    t.content.childNodes.forEach(function (n) {
      if (n.nodeType === 1 && n.nodeName === 'EM') {
        el.appendChild(h('em', { text: n.textContent }));
      } else if (n.textContent) {
        el.appendChild(document.createTextNode(n.textContent));
      }
    });
  }

  function kindLabel(k) {
    return KIND_LABELS[k] || k;
  }

  function daysLabel(n) {
    return n === 0 ? '即办' : '承诺时限 ' + n + ' 个工作日';
  }

  function formatMs(us) {
    var ms = (Number(us) || 0) / 1000;
    return ms >= 100 ? String(Math.round(ms)) : String(Math.round(ms * 10) / 10);
  }

  function show(el, on) {
    el.hidden = !on;
  }

  // ---------- search ----------

  function render(s) {
    current = s;
    var seq = ++searchSeq;
    els.q.value = s.q;
    document.title = s.q ? s.q + ' - 办事搜索' : '办事搜索 · 政务服务事项检索';
    if (searchCtl) searchCtl.abort();
    closeSuggestions();
    if (!s.q) {
      show(els.intro, true);
      show(els.facets, false);
      show(els.error, false);
      show(els.empty, false);
      show(els.pager, false);
      clear(els.results);
      els.summary.textContent = '';
      setLoading(false);
      return;
    }
    show(els.intro, false);
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    searchCtl = ctl;
    setLoading(true);
    fetchJson('/api/search?' + stateToQuery(s, true), ctl)
      .then(function (data) {
        if (seq !== searchSeq) return;
        setLoading(false);
        showResults(s, data);
      })
      .catch(function (err) {
        if (seq !== searchSeq || (err && err.name === 'AbortError')) return;
        setLoading(false);
        showError(err);
      });
  }

  function fetchJson(url, ctl) {
    return fetch(url, {
      headers: { Accept: 'application/json' },
      signal: ctl ? ctl.signal : undefined
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (!res.ok) {
          var e = new Error((body && body.error && body.error.message) || res.statusText || 'HTTP ' + res.status);
          e.status = res.status;
          e.code = body && body.error && body.error.code;
          throw e;
        }
        if (body === null) throw new Error('响应格式错误');
        return body;
      });
    });
  }

  function setLoading(on) {
    document.body.classList.toggle('loading', on);
    els.results.setAttribute('aria-busy', on ? 'true' : 'false');
    if (on) els.summary.textContent = '正在搜索…';
  }

  function showError(err) {
    show(els.facets, false);
    show(els.empty, false);
    show(els.pager, false);
    clear(els.results);
    els.summary.textContent = '';
    clear(els.error);
    var title;
    if (!err || err.status === undefined) title = '无法连接到搜索服务，请检查网络后重试。';
    else if (err.status === 429 || err.status === 503) title = '搜索服务繁忙，请稍后重试。';
    else if (err.status >= 500) title = '搜索服务出错了，请稍后重试。';
    else title = '搜索请求有误，请修改搜索词或筛选条件后重试。';
    els.error.appendChild(h('p', { class: 'error-title', text: title }));
    if (err && err.message && err.status !== undefined) {
      els.error.appendChild(h('p', { class: 'error-detail', text: err.message + (err.code ? '（' + err.code + '）' : '') }));
    }
    els.error.appendChild(h('button', { type: 'button', class: 'retry', text: '重试' }));
    show(els.error, true);
  }

  function showResults(s, data) {
    show(els.error, false);
    var hits = Array.isArray(data.hits) ? data.hits : [];
    var total = Number(data.total) || 0;
    // The server searched another reading of the query (pinyin, a corrected character): say so.
    var meant = typeof data.interpreted_as === 'string' && data.interpreted_as ? '已按“' + data.interpreted_as + '”搜索，' : '';
    els.summary.textContent = meant + '共 ' + total + ' 条结果，用时 ' + formatMs(data.took_us) + ' 毫秒';
    lastFacets = data.facets || {};
    lastDistinct = data.facets_distinct || {};
    renderFacets(s, lastFacets);
    renderHits(s, hits);
    renderPager(s, total);
    if (hits.length === 0) renderEmpty(s, data, total);
    else show(els.empty, false);
  }

  function renderHits(s, hits) {
    clear(els.results);
    hits.forEach(function (hit) {
      var href = '/docs/' + encodeURIComponent(hit.id) + '?q=' + encodeURIComponent(s.q);
      var link = h('a', { href: href });
      appendHighlighted(link, hit.title_highlighted || '');
      if (!link.textContent) link.textContent = hit.title || hit.id;
      var meta = h('p', { class: 'hit-meta' }, [
        h('span', { class: 'badge badge-kind kind-' + hit.kind, 'data-kind': hit.kind, text: kindLabel(hit.kind) })
      ]);
      if (typeof hit.time_limit_days === 'number') {
        meta.appendChild(h('span', { class: 'badge badge-days', text: daysLabel(hit.time_limit_days) }));
      }
      if (hit.department) meta.appendChild(h('span', { class: 'dept', text: hit.department }));
      if (hit.region) meta.appendChild(h('span', { class: 'region', text: hit.region }));
      if (hit.code) meta.appendChild(h('span', { class: 'code', text: '编码 ' + hit.code }));
      if (hit.updated) meta.appendChild(h('span', { class: 'updated', text: '更新于 ' + hit.updated }));
      var snippet = h('p', { class: 'snippet' });
      appendHighlighted(snippet, hit.snippet || '');
      els.results.appendChild(h('li', { class: 'hit', 'data-id': hit.id }, [
        h('h2', { class: 'hit-title' }, [link]),
        meta,
        snippet
      ]));
    });
  }

  // ---------- facets ----------

  // "Show all (n)"; when the server listed only the most frequent values, says so.
  function moreLabel(listed, distinct) {
    return distinct > listed
      ? '展开前 ' + listed + ' 项（共 ' + distinct + ' 项）'
      : '展开全部（' + listed + '）';
  }

  function renderFacets(s, facets) {
    var focus = document.activeElement;
    var focusKey = focus && els.facets.contains(focus)
      ? { field: focus.getAttribute('data-field'), value: focus.getAttribute('data-value'), id: focus.id }
      : null;
    clear(els.facets);
    var any = false;
    FIELDS.forEach(function (field) {
      var counts = facets[field] || {};
      var values = Object.keys(counts);
      // Selected values stay visible (so they can be turned off) even at zero.
      s[field].forEach(function (v) { if (values.indexOf(v) < 0) values.push(v); });
      if (values.length === 0) return;
      any = true;
      values.sort(function (a, b) {
        return (counts[b] || 0) - (counts[a] || 0) || (a < b ? -1 : a > b ? 1 : 0);
      });
      var showAll = expanded[field] || values.length <= FACET_COLLAPSED + 2;
      var list = h('div', { class: 'facet-values' });
      values.forEach(function (v, i) {
        var on = s[field].indexOf(v) >= 0;
        if (!showAll && i >= FACET_COLLAPSED && !on) return;
        var label = field === 'kind' ? kindLabel(v) : v;
        var n = counts[v] || 0;
        list.appendChild(h('button', {
          type: 'button',
          class: 'facet',
          'data-field': field,
          'data-value': v,
          'aria-pressed': on ? 'true' : 'false',
          'aria-label': label + '，' + n + ' 条' + (on ? '，已选' : '')
        }, [h('span', { class: 'facet-label', text: label }), h('span', { class: 'count', text: String(n) })]));
      });
      var group = h('fieldset', { class: 'facet-group', 'data-field': field }, [
        h('legend', { text: FIELD_LABELS[field] }),
        list
      ]);
      if (values.length > FACET_COLLAPSED + 2) {
        group.appendChild(h('button', {
          type: 'button',
          class: 'facet-more',
          'data-field': field,
          'aria-expanded': showAll ? 'true' : 'false',
          text: showAll ? '收起' : moreLabel(values.length, lastDistinct[field] || 0)
        }));
      }
      els.facets.appendChild(group);
    });
    // 承诺时限 filter.
    var select = h('select', { id: 'max-days', name: 'max_days' });
    MAX_DAYS_OPTIONS.forEach(function (o) {
      select.appendChild(h('option', { value: o[0], selected: o[0] === s.max_days, text: o[1] }));
    });
    if (s.max_days !== '' && !MAX_DAYS_OPTIONS.some(function (o) { return o[0] === s.max_days; })) {
      select.appendChild(h('option', { value: s.max_days, selected: true, text: s.max_days + ' 个工作日内' }));
    }
    els.facets.appendChild(h('div', { class: 'facet-group facet-days' }, [
      h('label', { for: 'max-days', text: '承诺时限' }),
      select
    ]));
    if (hasFilters(s)) {
      els.facets.appendChild(h('button', { type: 'button', class: 'facet-clear', text: '清除全部筛选' }));
    }
    show(els.facets, any || hasFilters(s));
    if (focusKey) restoreFocus(focusKey);
  }

  function restoreFocus(k) {
    var target = null;
    if (k.id) target = document.getElementById(k.id);
    if (!target && k.field !== null && k.value !== null) {
      target = Array.prototype.find.call(els.facets.querySelectorAll('.facet'), function (b) {
        return b.getAttribute('data-field') === k.field && b.getAttribute('data-value') === k.value;
      });
    }
    if (!target && k.field !== null) {
      target = els.facets.querySelector('.facet-more[data-field="' + cssEscape(k.field) + '"]');
    }
    if (target) target.focus();
  }

  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&');
  }

  function onFacetsClick(e) {
    var btn = e.target.closest('button');
    if (!btn || !current) return;
    if (btn.classList.contains('facet')) {
      var field = btn.getAttribute('data-field');
      var value = btn.getAttribute('data-value');
      var s = copyState(current);
      var i = s[field].indexOf(value);
      if (i >= 0) s[field].splice(i, 1);
      else s[field].push(value);
      s.page = 1;
      navigate(s, true);
    } else if (btn.classList.contains('facet-more')) {
      var f = btn.getAttribute('data-field');
      expanded[f] = !expanded[f];
      renderFacets(current, lastFacets);
    } else if (btn.classList.contains('facet-clear')) {
      clearFilters();
      els.q.focus();
    }
  }

  function onFacetsChange(e) {
    if (e.target.id !== 'max-days' || !current) return;
    var s = copyState(current);
    s.max_days = e.target.value;
    s.page = 1;
    navigate(s, true);
  }

  function clearFilters() {
    var s = emptyState();
    s.q = current ? current.q : '';
    navigate(s, true);
  }

  // ---------- pagination ----------

  function renderPager(s, total) {
    clear(els.pager);
    var pages = Math.min(Math.ceil(total / PAGE_SIZE), maxPage());
    if (pages <= 1 && s.page <= 1) {
      show(els.pager, false);
      return;
    }
    var p = s.page;
    els.pager.appendChild(h('button', {
      type: 'button', class: 'prev', 'data-page': p - 1, disabled: p <= 1, 'aria-label': '上一页', text: '‹ 上一页'
    }));
    var list = h('span', { class: 'pages' });
    var nums = pageNumbers(p, Math.max(pages, p));
    nums.forEach(function (n) {
      if (n === null) {
        list.appendChild(h('span', { class: 'gap', 'aria-hidden': 'true', text: '…' }));
        return;
      }
      list.appendChild(h('button', {
        type: 'button',
        class: 'page',
        'data-page': n,
        'aria-current': n === p ? 'page' : null,
        'aria-label': '第 ' + n + ' 页',
        text: String(n)
      }));
    });
    els.pager.appendChild(list);
    els.pager.appendChild(h('button', {
      type: 'button', class: 'next', 'data-page': p + 1, disabled: p >= pages, 'aria-label': '下一页', text: '下一页 ›'
    }));
    show(els.pager, true);
  }

  /** 1 … p-2 p-1 p p+1 p+2 … last; null marks a gap. */
  function pageNumbers(p, last) {
    var out = [];
    var lo = Math.max(1, p - 2);
    var hi = Math.min(last, p + 2);
    if (lo > 1) out.push(1);
    if (lo > 2) out.push(null);
    for (var i = lo; i <= hi; i++) out.push(i);
    if (hi < last - 1) out.push(null);
    if (hi < last) out.push(last);
    return out;
  }

  function onPagerClick(e) {
    var btn = e.target.closest('button[data-page]');
    if (!btn || btn.disabled || !current) return;
    var n = parseInt(btn.getAttribute('data-page'), 10);
    if (!(n >= 1) || n === current.page) return;
    var s = copyState(current);
    s.page = n;
    navigate(s, true);
    els.resultsCol.focus({ preventScroll: true });
    els.resultsCol.scrollIntoView({ block: 'start' });
  }

  // ---------- empty state ----------

  function renderEmpty(s, data, total) {
    clear(els.empty);
    if (total > 0) {
      // A page past the end (e.g. an old link).
      els.empty.appendChild(h('p', { text: '这一页没有结果。' }));
      els.empty.appendChild(h('p', {}, [h('a', { href: pageUrl(withPage(s, 1)), class: 'first-page', text: '回到第 1 页' })]));
      show(els.empty, true);
      return;
    }
    els.empty.appendChild(h('p', { class: 'empty-title' }, ['没有找到与“', h('strong', { text: s.q }), '”相关的结果。']));
    if (hasFilters(s)) {
      els.empty.appendChild(h('p', {}, [
        '当前有筛选条件，',
        h('button', { type: 'button', class: 'clear-filters', text: '清除筛选条件' }),
        '后再试。'
      ]));
    }
    var dym = h('p', { class: 'did-you-mean', hidden: true });
    els.empty.appendChild(dym);
    els.empty.appendChild(h('ul', { class: 'tips' }, [
      h('li', { text: '检查是否有错别字，或换一种说法，如“营业执照”“身份证补领”。' }),
      h('li', { text: '减少关键词，或使用更通用的词。' }),
      h('li', { text: '输入事项编码可直接查找对应事项。' })
    ]));
    show(els.empty, true);
    var given = Array.isArray(data.suggestions) ? data.suggestions.filter(function (x) { return typeof x === 'string' && x; }) : [];
    if (given.length) {
      fillDidYouMean(dym, given, s.q);
    } else {
      var seq = searchSeq;
      fetchJson('/api/suggest?q=' + encodeURIComponent(s.q), null)
        .then(function (d) {
          if (seq !== searchSeq) return;
          var titles = (d.suggestions || []).map(function (x) { return x && x.title; })
            .filter(function (t) { return typeof t === 'string' && t; });
          fillDidYouMean(dym, titles, s.q);
        })
        .catch(function () { /* "did you mean" is optional */ });
    }
  }

  function fillDidYouMean(el, words, q) {
    var seen = {};
    words = words.filter(function (w) {
      if (w === q || seen[w]) return false;
      seen[w] = true;
      return true;
    }).slice(0, 5);
    if (!words.length) return;
    clear(el);
    el.appendChild(document.createTextNode('您是不是要找：'));
    words.forEach(function (w, i) {
      if (i) el.appendChild(document.createTextNode('、'));
      var s = emptyState();
      s.q = w;
      el.appendChild(h('a', { href: pageUrl(s), 'data-q': w, text: w }));
    });
    el.hidden = false;
  }

  function withPage(s, n) {
    var c = copyState(s);
    c.page = n;
    return c;
  }

  // ---------- suggestions (ARIA combobox) ----------

  var sug = { timer: 0, ctl: null, items: [], active: -1, query: '', composing: false };

  function scheduleSuggest() {
    window.clearTimeout(sug.timer);
    var v = els.q.value.trim();
    if (!v) {
      closeSuggestions();
      return;
    }
    sug.timer = window.setTimeout(function () { fetchSuggestions(v); }, SUGGEST_DELAY_MS);
  }

  function fetchSuggestions(v) {
    if (sug.ctl) sug.ctl.abort();
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    sug.ctl = ctl;
    fetchJson('/api/suggest?q=' + encodeURIComponent(v), ctl)
      .then(function (d) {
        // Stale: the box changed, or it lost focus, while this was in flight.
        if (els.q.value.trim() !== v || document.activeElement !== els.q) return;
        var items = (d.suggestions || []).filter(function (x) { return x && typeof x.title === 'string' && x.title; });
        openSuggestions(items, v);
      })
      .catch(function () { /* suggestions are optional */ });
  }

  function openSuggestions(items, v) {
    sug.items = items;
    sug.active = -1;
    sug.query = v;
    clear(els.suggestions);
    if (!items.length) {
      closeSuggestions();
      return;
    }
    items.forEach(function (it, i) {
      var li = h('li', {
        id: 'sug-' + i,
        role: 'option',
        class: 'suggestion',
        'aria-selected': 'false',
        'data-title': it.title,
        'data-index': i
      }, [h('span', { class: 'suggestion-title', text: it.title })]);
      if (it.kind) li.appendChild(h('span', { class: 'suggestion-kind', text: kindLabel(it.kind) }));
      els.suggestions.appendChild(li);
    });
    els.suggestions.hidden = false;
    els.q.setAttribute('aria-expanded', 'true');
    els.q.removeAttribute('aria-activedescendant');
  }

  function closeSuggestions() {
    window.clearTimeout(sug.timer);
    if (sug.ctl) { sug.ctl.abort(); sug.ctl = null; }
    sug.items = [];
    sug.active = -1;
    els.suggestions.hidden = true;
    clear(els.suggestions);
    els.q.setAttribute('aria-expanded', 'false');
    els.q.removeAttribute('aria-activedescendant');
  }

  function isOpen() {
    return !els.suggestions.hidden && sug.items.length > 0;
  }

  function setActive(i) {
    var opts = els.suggestions.querySelectorAll('li[role=option]');
    if (!opts.length) return;
    if (i < -1) i = opts.length - 1;
    if (i >= opts.length) i = -1;
    sug.active = i;
    Array.prototype.forEach.call(opts, function (o, j) {
      o.setAttribute('aria-selected', j === i ? 'true' : 'false');
      o.classList.toggle('active', j === i);
    });
    if (i >= 0) {
      els.q.setAttribute('aria-activedescendant', opts[i].id);
      opts[i].scrollIntoView({ block: 'nearest' });
    } else {
      els.q.removeAttribute('aria-activedescendant');
    }
  }

  function chooseSuggestion(i) {
    var it = sug.items[i];
    if (!it) return;
    closeSuggestions();
    els.q.value = it.title;
    submitQuery(it.title);
  }

  function onKeydown(e) {
    if (e.isComposing || e.keyCode === 229) return; // IME is composing Chinese
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        if (isOpen()) setActive(sug.active + 1);
        else if (els.q.value.trim()) fetchSuggestions(els.q.value.trim());
        break;
      case 'ArrowUp':
        if (isOpen()) {
          e.preventDefault();
          setActive(sug.active - 1);
        }
        break;
      case 'Enter':
        if (isOpen() && sug.active >= 0) {
          e.preventDefault();
          chooseSuggestion(sug.active);
        }
        break;
      case 'Escape':
        if (isOpen()) {
          e.preventDefault();
          closeSuggestions();
        }
        break;
      case 'Tab':
        closeSuggestions();
        break;
    }
  }

  function submitQuery(q) {
    var s = current ? copyState(current) : emptyState();
    s.q = q.trim();
    s.page = 1;
    if (!s.q) {
      els.q.focus();
      return;
    }
    navigate(s, true);
  }

  // ---------- wiring ----------

  function init() {
    ['q', 'suggestions', 'search-form', 'results', 'facets', 'pager', 'summary', 'empty', 'error', 'intro', 'results-col']
      .forEach(function (id) {
        els[id.replace(/-(\w)/g, function (_, c) { return c.toUpperCase(); })] = document.getElementById(id);
      });

    els.searchForm.addEventListener('submit', function (e) {
      e.preventDefault();
      closeSuggestions();
      submitQuery(els.q.value);
    });
    els.q.addEventListener('input', function (e) {
      if (e.isComposing || sug.composing) return;
      scheduleSuggest();
    });
    els.q.addEventListener('compositionstart', function () { sug.composing = true; });
    els.q.addEventListener('compositionend', function () {
      sug.composing = false;
      scheduleSuggest();
    });
    els.q.addEventListener('keydown', onKeydown);
    els.q.addEventListener('blur', function () {
      // A click on an option keeps focus (mousedown is prevented), so this is a real blur.
      closeSuggestions();
    });
    els.suggestions.addEventListener('mousedown', function (e) { e.preventDefault(); });
    els.suggestions.addEventListener('click', function (e) {
      var li = e.target.closest('li[role=option]');
      if (li) chooseSuggestion(parseInt(li.getAttribute('data-index'), 10));
    });
    els.suggestions.addEventListener('mousemove', function (e) {
      var li = e.target.closest('li[role=option]');
      if (li) {
        var i = parseInt(li.getAttribute('data-index'), 10);
        if (i !== sug.active) setActive(i);
      }
    });

    els.facets.addEventListener('click', onFacetsClick);
    els.facets.addEventListener('change', onFacetsChange);
    els.pager.addEventListener('click', onPagerClick);
    els.error.addEventListener('click', function (e) {
      if (e.target.closest('.retry') && current) render(current);
    });
    els.empty.addEventListener('click', function (e) {
      if (e.target.closest('.clear-filters')) {
        clearFilters();
      }
    });

    // Same-page links (examples, "did you mean", first page) navigate without a reload.
    document.addEventListener('click', function (e) {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      var a = e.target.closest('a[href^="/?"], a[href="/"]');
      if (!a || a.target) return;
      var url = new URL(a.href, window.location.href);
      if (url.origin !== window.location.origin || url.pathname !== '/') return;
      e.preventDefault();
      window.history.pushState(null, '', url.pathname + url.search);
      render(stateFromUrl());
      if (a.closest('#empty, #intro')) els.q.focus();
    });

    window.addEventListener('popstate', function () {
      render(stateFromUrl());
    });

    render(stateFromUrl());
    if (!current.q) els.q.focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
