/*
 * banshi embeddable search box. Copy and paste into any page:
 *
 *   <div id="banshi-box"></div>
 *   <script src="https://HOST/embed.js" data-target="#banshi-box" data-results="new-tab" defer></script>
 *
 * Attributes of the <script> tag:
 *   data-target       CSS selector of the element to render into (default: a new <div> placed
 *                     right before the script tag)
 *   data-results      "new-tab" (default): submitting opens https://HOST/?q=… in a new tab;
 *                     "inline": the top 5 results are listed under the box, linking to HOST
 *   data-placeholder  placeholder text of the input (optional)
 *
 * The API is called on the script's own origin (from document.currentScript.src), so the box
 * works on any site; HOST answers CORS. The box lives in a shadow root: the host page's CSS
 * does not leak in and ours does not leak out. Inside it (for tests):
 *   form.banshi-form, input.banshi-input[role=combobox], ul.banshi-suggestions[role=listbox]
 *   with li[role=option], ul.banshi-results with li.banshi-hit (inline mode), .banshi-status.
 */
(function () {
  'use strict';

  var script = document.currentScript ||
    (function () {
      var all = document.querySelectorAll('script[src*="/embed.js"]');
      return all[all.length - 1] || null;
    })();
  if (!script || !script.src) return;

  var ORIGIN;
  try {
    ORIGIN = new URL(script.src, window.location.href).origin;
  } catch (e) {
    return;
  }
  var MODE = script.getAttribute('data-results') === 'inline' ? 'inline' : 'new-tab';
  var TARGET = script.getAttribute('data-target');
  var PLACEHOLDER = script.getAttribute('data-placeholder') || '搜索办事事项，如：营业执照';
  var DELAY_MS = 120;
  var INLINE_LIMIT = 5;
  var KIND_LABELS = { law: '法律法规', guide: '办事指南', material: '申请材料', timeline: '办理时限', notice: '通知公告' };
  var uid = 'banshi-' + Math.random().toString(36).slice(2, 8);

  var CSS =
    ':host{all:initial;display:block;font:15px/1.6 -apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#1f2329}' +
    '*{box-sizing:border-box}' +
    '.banshi{position:relative;max-width:640px}' +
    '.banshi-form{display:flex;gap:6px}' +
    '.banshi-combo{position:relative;flex:1 1 auto;min-width:0}' +
    '.banshi-input{width:100%;height:40px;padding:0 10px;border:1px solid #c9ced6;border-radius:6px;font:inherit;color:inherit;background:#fff}' +
    '.banshi-button{height:40px;padding:0 16px;border:0;border-radius:6px;background:#b3261e;color:#fff;font:inherit;cursor:pointer;white-space:nowrap}' +
    ':focus-visible{outline:3px solid #1a56b8;outline-offset:2px}' +
    '.banshi-suggestions{position:absolute;z-index:2147483000;top:calc(100% + 4px);left:0;right:0;margin:0;padding:4px 0;list-style:none;background:#fff;border:1px solid #d9dde3;border-radius:6px;box-shadow:0 6px 20px rgba(0,0,0,.15);max-height:320px;overflow-y:auto}' +
    '.banshi-suggestions li{display:flex;justify-content:space-between;gap:10px;padding:6px 10px;cursor:pointer}' +
    '.banshi-suggestions li[aria-selected=true]{background:#eef1f5;outline:2px solid #1a56b8;outline-offset:-2px}' +
    '.banshi-kind{color:#5c6370;font-size:.85em;white-space:nowrap}' +
    '.banshi-results{list-style:none;margin:8px 0 0;padding:0}' +
    '.banshi-hit{padding:8px 0;border-bottom:1px solid #e5e8ec}' +
    '.banshi-hit a{color:#1a56b8;font-weight:600;text-decoration:none}' +
    '.banshi-hit a:hover{text-decoration:underline}' +
    '.banshi-snippet{margin:2px 0 0;color:#41464f;font-size:.9em}' +
    'em{font-style:normal;font-weight:600;color:#b3261e}' +
    '.banshi-status{margin:6px 0 0;color:#5c6370;font-size:.9em}' +
    '.banshi-more{display:inline-block;margin-top:6px;color:#1a56b8}' +
    '[hidden]{display:none!important}' +
    '.banshi-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}';

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    });
    (children || []).forEach(function (c) {
      if (c) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  /** Server-highlighted HTML (escaped, with <em>): keep <em>, everything else as text. */
  function appendHighlighted(el, html) {
    var t = document.createElement('template');
    t.innerHTML = String(html || '');
    Array.prototype.forEach.call(t.content.childNodes, function (n) {
      if (n.nodeType === 1 && n.nodeName === 'EM') el.appendChild(h('em', { text: n.textContent }));
      else if (n.textContent) el.appendChild(document.createTextNode(n.textContent));
    });
  }

  function getJson(path, ctl) {
    return fetch(ORIGIN + path, {
      headers: { Accept: 'application/json' },
      credentials: 'omit',
      signal: ctl ? ctl.signal : undefined
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (!res.ok || !body) {
          var msg = body && body.error && body.error.message;
          throw new Error(msg || 'HTTP ' + res.status);
        }
        return body;
      });
    });
  }

  function mount(host) {
    var root = host;
    try {
      if (host.attachShadow) root = host.attachShadow({ mode: 'open' });
    } catch (e) {
      root = host; // e.g. a host element that cannot have a shadow root
    }
    var listId = uid + '-list';
    var input = h('input', {
      class: 'banshi-input',
      type: 'search',
      name: 'q',
      maxlength: 256,
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: PLACEHOLDER,
      role: 'combobox',
      'aria-label': '搜索办事事项',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': listId,
      enterkeyhint: 'search'
    });
    var list = h('ul', { class: 'banshi-suggestions', id: listId, role: 'listbox', 'aria-label': '搜索建议', hidden: true });
    var form = h('form', {
      class: 'banshi-form',
      role: 'search',
      action: ORIGIN + '/',
      method: 'get',
      target: MODE === 'new-tab' ? '_blank' : null,
      rel: 'noopener'
    }, [
      h('div', { class: 'banshi-combo' }, [input, list]),
      h('button', { class: 'banshi-button', type: 'submit', text: '搜索' })
    ]);
    var status = h('p', { class: 'banshi-status', role: 'status', 'aria-live': 'polite' });
    var results = h('ul', { class: 'banshi-results', hidden: true });
    var box = h('div', { class: 'banshi', lang: 'zh-CN' }, [form, status, results]);
    if (root !== host) root.appendChild(h('style', { text: CSS }));
    else box.setAttribute('style', 'position:relative;max-width:640px');
    root.appendChild(box);

    var items = [];
    var active = -1;
    var timer = 0;
    var ctl = null;
    var composing = false;
    var searchSeq = 0;

    function close() {
      window.clearTimeout(timer);
      if (ctl) { ctl.abort(); ctl = null; }
      items = [];
      active = -1;
      clear(list);
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    }

    function open(found) {
      items = found;
      active = -1;
      clear(list);
      if (!items.length) { close(); return; }
      items.forEach(function (it, i) {
        var li = h('li', { id: uid + '-opt-' + i, role: 'option', 'aria-selected': 'false', 'data-index': i, 'data-title': it.title }, [
          h('span', { text: it.title })
        ]);
        if (KIND_LABELS[it.kind]) li.appendChild(h('span', { class: 'banshi-kind', text: KIND_LABELS[it.kind] }));
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }

    function setActive(i) {
      var opts = list.querySelectorAll('li[role=option]');
      if (!opts.length) return;
      if (i < -1) i = opts.length - 1;
      if (i >= opts.length) i = -1;
      active = i;
      Array.prototype.forEach.call(opts, function (o, j) { o.setAttribute('aria-selected', j === i ? 'true' : 'false'); });
      if (i >= 0) {
        input.setAttribute('aria-activedescendant', opts[i].id);
        opts[i].scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }

    function suggest(v) {
      if (ctl) ctl.abort();
      ctl = typeof AbortController === 'function' ? new AbortController() : null;
      getJson('/api/suggest?q=' + encodeURIComponent(v), ctl)
        .then(function (d) {
          if (input.value.trim() !== v) return;
          open((d.suggestions || []).filter(function (x) { return x && typeof x.title === 'string' && x.title; }));
        })
        .catch(function () { /* optional */ });
    }

    function schedule() {
      window.clearTimeout(timer);
      var v = input.value.trim();
      if (!v) { close(); return; }
      timer = window.setTimeout(function () { suggest(v); }, DELAY_MS);
    }

    function go(q) {
      q = q.trim();
      close();
      if (!q) { input.focus(); return; }
      if (MODE === 'inline') searchInline(q);
      else form.submit(); // a real navigation to ORIGIN/?q=… in a new tab (no popup blocker)
    }

    function searchInline(q) {
      var seq = ++searchSeq;
      status.textContent = '正在搜索…';
      getJson('/api/search?q=' + encodeURIComponent(q) + '&limit=' + INLINE_LIMIT, null)
        .then(function (d) {
          if (seq !== searchSeq) return;
          clear(results);
          var hits = Array.isArray(d.hits) ? d.hits : [];
          var total = Number(d.total) || 0;
          status.textContent = total ? '共 ' + total + ' 条结果' : '没有找到与“' + q + '”相关的结果。';
          hits.forEach(function (hit) {
            var a = h('a', {
              href: ORIGIN + '/docs/' + encodeURIComponent(hit.id) + '?q=' + encodeURIComponent(q),
              target: '_blank',
              rel: 'noopener'
            });
            appendHighlighted(a, hit.title_highlighted);
            if (!a.textContent) a.textContent = hit.title || hit.id;
            var snip = h('p', { class: 'banshi-snippet' });
            appendHighlighted(snip, hit.snippet);
            results.appendChild(h('li', { class: 'banshi-hit' }, [a, snip]));
          });
          if (total > hits.length) {
            results.appendChild(h('li', {}, [h('a', {
              class: 'banshi-more',
              href: ORIGIN + '/?q=' + encodeURIComponent(q),
              target: '_blank',
              rel: 'noopener',
              text: '查看全部 ' + total + ' 条结果 ›'
            })]));
          }
          results.hidden = !results.firstChild;
        })
        .catch(function () {
          if (seq !== searchSeq) return;
          clear(results);
          results.hidden = true;
          status.textContent = '搜索服务暂时不可用，请稍后重试。';
        });
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      go(input.value);
    });
    input.addEventListener('input', function (e) {
      if (!e.isComposing && !composing) schedule();
    });
    input.addEventListener('compositionstart', function () { composing = true; });
    input.addEventListener('compositionend', function () { composing = false; schedule(); });
    input.addEventListener('keydown', function (e) {
      if (e.isComposing || e.keyCode === 229) return;
      var isOpen = !list.hidden && items.length > 0;
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        if (isOpen) setActive(active + 1);
        else if (input.value.trim()) suggest(input.value.trim());
      } else if (e.key === 'ArrowUp' && isOpen) {
        e.preventDefault();
        setActive(active - 1);
      } else if (e.key === 'Enter' && isOpen && active >= 0) {
        e.preventDefault();
        input.value = items[active].title;
        go(input.value);
      } else if (e.key === 'Escape' && isOpen) {
        e.preventDefault();
        close();
      } else if (e.key === 'Tab') {
        close();
      }
    });
    input.addEventListener('blur', close);
    list.addEventListener('mousedown', function (e) { e.preventDefault(); });
    list.addEventListener('click', function (e) {
      var li = e.target.closest('li[role=option]');
      if (!li) return;
      var it = items[parseInt(li.getAttribute('data-index'), 10)];
      if (!it) return;
      input.value = it.title;
      go(it.title);
    });
  }

  function start() {
    var host = null;
    if (TARGET) {
      try { host = document.querySelector(TARGET); } catch (e) { host = null; }
    }
    if (!host) {
      if (TARGET && document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
        return;
      }
      host = document.createElement('div');
      script.parentNode.insertBefore(host, script);
    }
    if (host.getAttribute('data-banshi-mounted')) return;
    host.setAttribute('data-banshi-mounted', '1');
    mount(host);
  }

  start();
})();
