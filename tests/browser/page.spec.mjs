// Real-browser end-to-end test of the banshi portal page (headless Chromium via playwright-core).
//
//   node tests/browser/page.spec.mjs <base-url> <screenshot-dir>
//
// Run by tests/browser.rs against a real `banshi serve` on the built-in corpus. Exits 0 when
// every step passes; otherwise prints the failed step with what was expected and what the page
// showed, and exits 1. Screenshots (results page, document page, mobile, and one at the
// moment of a failure) go to <screenshot-dir>; CI keeps that folder as build artifacts.
//
// Every check waits for a selector or condition (never a fixed sleep) and fails with a message
// saying what the page should have done. The element ids and classes used are the contract
// listed at the top of src/server/assets/app.js.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, shotDir] = process.argv.slice(2);
if (!base || !shotDir) {
  console.error('usage: node page.spec.mjs <base-url> <screenshot-dir>');
  process.exit(2);
}
mkdirSync(shotDir, { recursive: true });

const CHROMIUM = process.env.BANSHI_CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 15000; // per condition; generous for a loaded 2-core CI machine

class Failure extends Error {}

/** Fail the current step with `msg` unless `cond`. */
function check(cond, msg) {
  if (!cond) throw new Failure(msg);
}

/** Wait until `fn(arg)` (run in the page) is truthy; on time-out fail with `msg`. */
async function waitFor(page, msg, fn, arg) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: WAIT_MS });
  } catch (e) {
    throw new Failure(`${msg} (waited ${WAIT_MS} ms; ${firstLine(e)})`);
  }
}

/** Wait for a selector to be visible (or `state`); on time-out fail with `msg`. */
async function waitSel(page, selector, msg, state = 'visible') {
  try {
    return await page.waitForSelector(selector, { state, timeout: WAIT_MS });
  } catch (e) {
    throw new Failure(`${msg} (selector ${selector} not ${state} after ${WAIT_MS} ms; ${firstLine(e)})`);
  }
}

function firstLine(e) {
  return String((e && e.message) || e).split('\n')[0];
}

/** What the search page shows, for failure messages. */
async function pageState(page) {
  try {
    return await page.evaluate(() => {
      const txt = (sel) => {
        const el = document.querySelector(sel);
        return el ? el.textContent.trim().slice(0, 200) : null;
      };
      return {
        url: location.href,
        q: document.getElementById('q') ? document.getElementById('q').value : null,
        summary: txt('#summary'),
        error: txt('#error'),
        empty: document.getElementById('empty') ? !document.getElementById('empty').hidden : null,
        hits: Array.from(document.querySelectorAll('#results li.hit')).slice(0, 5).map((li) => ({
          id: li.getAttribute('data-id'),
          title: (li.querySelector('.hit-title') || {}).textContent,
          kind: (li.querySelector('.badge-kind') || { getAttribute: () => null }).getAttribute('data-kind'),
        })),
        h1: txt('h1'),
      };
    });
  } catch (e) {
    return { unavailable: firstLine(e) };
  }
}

/** Hits currently rendered: [{id, title, titleHtml, kind, snippetHtml}]. */
function hits(page) {
  return page.$$eval('#results li.hit', (lis) =>
    lis.map((li) => ({
      id: li.getAttribute('data-id'),
      title: li.querySelector('.hit-title a') ? li.querySelector('.hit-title a').textContent : '',
      href: li.querySelector('.hit-title a') ? li.querySelector('.hit-title a').getAttribute('href') : '',
      hasTitleEm: !!li.querySelector('.hit-title em'),
      hasSnippetEm: !!li.querySelector('.snippet em'),
      kind: li.querySelector('.badge-kind') ? li.querySelector('.badge-kind').getAttribute('data-kind') : null,
      kindVisible: !!li.querySelector('.badge-kind') && li.querySelector('.badge-kind').offsetParent !== null,
    })),
  );
}

/** Wait until a search for `q` has finished rendering (not loading, summary or #empty shown). */
async function waitForResults(page, q, what) {
  await waitFor(
    page,
    `${what}: the search for "${q}" did not finish rendering (#q and the URL should hold the query, ` +
      `body.loading should clear and #summary should read "共 N 条结果…")`,
    (q) =>
      document.getElementById('q').value === q &&
      new URLSearchParams(location.search).get('q') === q &&
      !document.body.classList.contains('loading') &&
      /共 \d+ 条结果/.test(document.getElementById('summary').textContent),
    q,
  );
}

/** Type `q` into the box like a user and submit with Enter. */
async function search(page, q) {
  const box = page.locator('#q');
  await box.click();
  await box.fill('');
  await box.pressSequentially(q, { delay: 40 });
  // Enter submits the form unless a suggestion is active; none is, since we never arrowed.
  await box.press('Enter');
  await waitForResults(page, q, `search "${q}"`);
}

const steps = [];
function step(name, fn) {
  steps.push({ name, fn });
}

// ------------------------------------------------------------------------------------------

// playwright's launch() gives Chromium a fresh temporary --user-data-dir and removes it on close.
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
const page = await ctx.newPage();
const pageErrors = [];
const consoleErrors = [];
page.on('pageerror', (e) => pageErrors.push(firstLine(e)));
const failedRequests = [];
page.on('console', (m) => {
  // A failed load is reported (with its URL) through failedRequests instead.
  if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
});
page.on('response', (r) => {
  if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`);
});

// State carried between steps; memo.active is the page a failing step is about (default: page).
const memo = {};
// Contexts closed after the step's failure report (which screenshots them).
const cleanup = [];

step('1. suggestions for "yyzz", choose one with ArrowDown + Enter, results render', async () => {
  const resp = await page.goto(base + '/');
  check(resp && resp.ok(), `GET / answered ${resp && resp.status()}`);
  await waitSel(page, '#q', 'the search box #q is not visible on /');
  await waitSel(page, '#intro', 'the intro (#intro) is not shown on / without a query');
  const box = page.locator('#q');
  await box.click();
  // Suggestions for the prefixes typed on the way (y, yy, yyz) may show first; wait for the
  // answer for the whole "yyzz" and for the list to show exactly its titles.
  const answer = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/api/suggest' && new URL(r.url()).searchParams.get('q') === 'yyzz',
    { timeout: WAIT_MS },
  ).catch((e) => {
    throw new Failure(`typing "yyzz" into #q never requested /api/suggest?q=yyzz (${firstLine(e)})`);
  });
  answer.catch(() => {}); // handled by the await below; keeps node from calling it unhandled
  await box.pressSequentially('yyzz', { delay: 150 });
  const want = ((await (await answer).json()).suggestions || []).map((x) => x.title);
  check(want.length > 0, '/api/suggest?q=yyzz returned no suggestions');
  await waitFor(page, `the suggestion list for "yyzz" does not show the titles the API returned: ${JSON.stringify(want)}`,
    (want) => {
      const got = Array.from(document.querySelectorAll('#suggestions li[role=option]')).map((li) => li.getAttribute('data-title'));
      return !document.getElementById('suggestions').hidden && got.length === want.length && got.every((t, i) => t === want[i]);
    }, want);
  const expanded = await box.getAttribute('aria-expanded');
  check(expanded === 'true', `#q aria-expanded is ${expanded} while suggestions are open (want "true")`);
  const options = await page.$$eval('#suggestions li[role=option]', (lis) => lis.map((li) => li.getAttribute('data-title') || li.textContent));
  const target = options.findIndex((t) => t.includes('营业执照'));
  check(target >= 0, `no suggestion for "yyzz" contains 营业执照; got ${JSON.stringify(options)}`);
  // ArrowDown to that option; the active one is marked aria-selected and is #q's activedescendant.
  for (let i = 0; i <= target; i++) await box.press('ArrowDown');
  const active = await page.$eval('#suggestions li[aria-selected=true]', (li) => ({ id: li.id, title: li.getAttribute('data-title') }))
    .catch(() => null);
  check(active && active.title === options[target],
    `after ${target + 1}× ArrowDown the selected option is ${JSON.stringify(active)}, want "${options[target]}"`);
  const desc = await box.getAttribute('aria-activedescendant');
  check(desc === active.id, `#q aria-activedescendant is ${desc}, want ${active.id}`);
  await box.press('Enter');
  const chosen = options[target];
  await waitForResults(page, chosen, 'choosing a suggestion');
  await waitSel(page, '#suggestions', 'the suggestion list stayed open after choosing an option', 'hidden');
  check(page.url().includes('q='), `the URL ${page.url()} does not carry the query after choosing a suggestion`);
  const summary = await page.textContent('#summary');
  check(/共 \d+ 条结果/.test(summary), `#summary is "${summary}", want /共 \\d+ 条结果/`);
  const hs = await hits(page);
  check(hs.length > 0, `no hits rendered for "${chosen}"; ${JSON.stringify(await pageState(page))}`);
  check(hs[0].title.includes('营业执照'), `first hit title is "${hs[0].title}", want it to contain 营业执照`);
  check(hs.some((h) => h.hasTitleEm || h.hasSnippetEm), `no <em> highlight in any .hit-title or .snippet for "${chosen}"`);
  check(hs[0].hasTitleEm || hs[0].hasSnippetEm, `the first hit "${hs[0].title}" has no <em> highlight in its title or snippet`);
  await page.screenshot({ path: join(shotDir, 'results.png'), fullPage: true });
});

step('2. "身份证丢了" finds 居民身份证补领 first', async () => {
  await search(page, '身份证丢了');
  const hs = await hits(page);
  check(hs.length > 0, `no hits for 身份证丢了; ${JSON.stringify(await pageState(page))}`);
  check(hs[0].title.includes('居民身份证补领'), `first hit for 身份证丢了 is "${hs[0].title}", want it to contain 居民身份证补领`);
});

step('3. a kind facet filters the hits', async () => {
  await waitSel(page, '#facets .facet[data-field=kind]', 'no kind facet (#facets .facet[data-field=kind]) for 身份证丢了');
  const facets = await page.$$eval('#facets .facet[data-field=kind]', (bs) =>
    bs.map((b) => ({ value: b.getAttribute('data-value'), pressed: b.getAttribute('aria-pressed'), count: Number(b.querySelector('.count').textContent) })),
  );
  check(facets.every((f) => f.pressed === 'false'), `a kind facet is pressed before any was clicked: ${JSON.stringify(facets)}`);
  const totalBefore = Number((await page.textContent('#summary')).match(/共 (\d+) 条结果/)[1]);
  // A value that narrows the results (fewer hits than the total) shows filtering best.
  const f = facets.find((x) => x.count > 0 && x.count < totalBefore) || facets[0];
  await page.click(`#facets .facet[data-field=kind][data-value="${f.value}"]`);
  await waitFor(page, `after clicking kind facet "${f.value}" it is not aria-pressed="true"`,
    (v) => {
      const b = document.querySelector(`#facets .facet[data-field=kind][data-value="${v}"]`);
      return b && b.getAttribute('aria-pressed') === 'true' && !document.body.classList.contains('loading');
    }, f.value);
  check(new URL(page.url()).searchParams.getAll('kind').includes(f.value),
    `the URL ${page.url()} does not contain kind=${f.value} after clicking the facet`);
  const summary = await page.textContent('#summary');
  const total = Number((summary.match(/共 (\d+) 条结果/) || [])[1]);
  check(total === f.count, `with kind=${f.value} #summary says "${summary}", want 共 ${f.count} 条结果 (the facet's count)`);
  const hs = await hits(page);
  check(hs.length > 0, `no hits with kind=${f.value}`);
  const wrong = hs.filter((h) => h.kind !== f.value || !h.kindVisible);
  check(wrong.length === 0, `hits whose kind badge is not ${f.value} (or hidden) after filtering: ${JSON.stringify(wrong)}`);
  // Clearing the filter (so the next searches are unfiltered) through the page's own button.
  await page.click('#facets .facet-clear');
  await waitFor(page, 'the facet-clear button did not turn every facet off',
    () => !document.body.classList.contains('loading') &&
      document.querySelectorAll('#facets .facet[aria-pressed=true]').length === 0 &&
      !new URLSearchParams(location.search).has('kind'));
});

step('4. "登记" has several pages; .next shows page 2', async () => {
  await search(page, '登记');
  const summary = await page.textContent('#summary');
  const total = Number(summary.match(/共 (\d+) 条结果/)[1]);
  check(total > 10, `登记 should have more than one page of hits; #summary says "${summary}"`);
  const first = await hits(page);
  check(first.length === 10, `page 1 of 登记 shows ${first.length} hits, want 10`);
  await waitSel(page, '#pager .next', 'no .next button in #pager for 登记');
  check(!(await page.$eval('#pager .next', (b) => b.disabled)), '.next is disabled on page 1 of 登记');
  await page.click('#pager .next');
  await waitFor(page, 'after clicking .next the URL has no page=2',
    () => new URLSearchParams(location.search).get('page') === '2');
  await waitFor(page, 'after clicking .next the hit list did not change (first hit id is the same as on page 1)',
    (firstId) => {
      const li = document.querySelector('#results li.hit');
      return !document.body.classList.contains('loading') && li && li.getAttribute('data-id') !== firstId;
    }, first[0].id);
  const second = await hits(page);
  const overlap = second.filter((h) => first.some((f) => f.id === h.id));
  check(overlap.length === 0, `page 2 repeats hits of page 1: ${JSON.stringify(overlap.map((h) => h.id))}`);
  const current = await page.$eval('#pager .page[aria-current=page]', (b) => b.getAttribute('data-page')).catch(() => null);
  check(current === '2', `the current page button (.page[aria-current=page]) is ${current}, want 2`);
  check((await page.inputValue('#q')) === '登记', `#q lost the query on page 2: "${await page.inputValue('#q')}"`);
  memo.page2 = { url: page.url(), ids: second.map((h) => h.id) };
});

step('5. open a document from the results, then go back', async () => {
  check(memo.page2, 'step 4 did not reach page 2 of 登记, so there is nothing to go back to');
  const hs = await hits(page);
  const first = hs[0];
  check(first.href.startsWith('/docs/') && first.href.includes('q='),
    `the first hit's link is "${first.href}", want /docs/{id}?q=…`);
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith('/docs/'), { timeout: WAIT_MS }).catch((e) => {
      throw new Failure(`clicking the first .hit-title a did not open /docs/…: ${firstLine(e)}`);
    }),
    page.click('#results li.hit .hit-title a'),
  ]);
  await waitSel(page, 'h1', 'the document page has no <h1>');
  const h1 = (await page.textContent('h1')).trim();
  check(h1.length > 0, 'the document page <h1> is empty');
  const titleWords = first.title.replace(/[（）()]/g, ' ').split(/\s+/).filter(Boolean);
  check(titleWords.every((w) => h1.includes(w)), `the document <h1> "${h1}" does not match the hit title "${first.title}"`);
  const docId = decodeURIComponent(new URL(page.url()).pathname.slice('/docs/'.length));
  check(docId === first.id, `opened /docs/${docId}, want the first hit's id ${first.id}`);
  const materials = await page.$$eval('.doc-materials li', (lis) => lis.map((li) => li.textContent.trim()));
  const api = await (await page.request.get(`${base}/api/docs/${encodeURIComponent(docId)}`)).json();
  const wantMaterials = (api.materials || []).filter((m) => m.trim());
  check(materials.length === wantMaterials.length,
    `the document page lists ${materials.length} materials (.doc-materials li), the API has ${wantMaterials.length}`);
  const ems = await page.$$eval('main em', (es) => es.map((e) => e.textContent));
  check(ems.length > 0, 'the document page opened from a search for 登记 highlights nothing (no <em> in <main>)');
  check(ems.some((e) => e.includes('登记')), `the document page highlights ${JSON.stringify(ems.slice(0, 5))}, none contains 登记`);
  const back = await page.$eval('nav.back a', (a) => a.getAttribute('href')).catch(() => null);
  check(back && new URLSearchParams(back.split('?')[1] || '').get('q') === '登记', `the back link is ${back}, want /?q=登记…`);
  await page.screenshot({ path: join(shotDir, 'doc.png'), fullPage: true });

  await page.goBack();
  await waitFor(page, `going back did not return to ${memo.page2.url}`, (u) => location.href === u, memo.page2.url);
  await waitForResults(page, '登记', 'after going back');
  await waitFor(page, 'after going back the results are not the page-2 results that were shown before',
    (ids) => {
      const now = Array.from(document.querySelectorAll('#results li.hit')).map((li) => li.getAttribute('data-id'));
      return now.length === ids.length && now.every((id, i) => id === ids[i]);
    }, memo.page2.ids);
  check((await page.inputValue('#q')) === '登记', `after going back #q holds "${await page.inputValue('#q')}", want 登记`);
});

step('6. a query without results shows #empty', async () => {
  await search(page, 'zzzzqqq');
  await waitSel(page, '#empty', 'the no-results state #empty is not shown for zzzzqqq');
  const summary = await page.textContent('#summary');
  check(/共 0 条结果/.test(summary), `#summary for zzzzqqq is "${summary}", want 共 0 条结果`);
  const n = (await hits(page)).length;
  check(n === 0, `${n} hits rendered for zzzzqqq, want none`);
  const text = await page.textContent('#empty');
  check(text.includes('zzzzqqq'), `#empty does not name the query: "${text.trim().slice(0, 120)}"`);
  check(await page.$eval('#pager', (p) => p.hidden), 'the pager is shown for a query without results');
});

step('7. the document page reads without JavaScript', async () => {
  const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  try {
    const p = await noJs.newPage();
    memo.active = p;
    const resp = await p.goto(`${base}/docs/YC0310000101?q=${encodeURIComponent('营业执照')}`);
    check(resp && resp.status() === 200, `GET /docs/YC0310000101 answered ${resp && resp.status()}`);
    const h1 = await p.textContent('h1').catch(() => null);
    check(h1 && h1.includes('个体工商户'), `without JavaScript the document <h1> is ${JSON.stringify(h1)}, want it to contain 个体工商户`);
    check(await p.isVisible('h1'), 'without JavaScript the document <h1> is not visible');
    const ems = await p.$$eval('main em', (es) => es.map((e) => e.textContent));
    check(ems.some((e) => e.includes('营业执照')), `without JavaScript 营业执照 is not highlighted; <em>s: ${JSON.stringify(ems.slice(0, 5))}`);
    const body = await p.textContent('main');
    check(body.length > 200, `without JavaScript the document <main> has only ${body.length} characters`);
    check((await p.inputValue('#doc-q')) === '营业执照', 'the document page search box does not hold the query');
  } finally {
    cleanup.push(() => noJs.close());
  }
});

step('8. mobile viewport (375×700): box visible, no horizontal scroll', async () => {
  const mobile = await browser.newContext({
    viewport: { width: 375, height: 700 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  try {
    const p = await mobile.newPage();
    memo.active = p;
    // Measured against documentElement.clientWidth (the 375 px screen): with isMobile, Chromium
    // widens the layout viewport (and so window.innerWidth) to fit content that overflows, so
    // innerWidth alone would hide the very overflow this looks for.
    const noHScroll = async (what) => {
      const m = await p.evaluate(() => {
        const root = document.documentElement;
        const limit = root.clientWidth + 1;
        // Elements sticking out past the screen that no horizontal scroller of their own contains.
        const culprits = [];
        for (const el of document.body.querySelectorAll('*')) {
          if (el.getBoundingClientRect().right <= limit) continue;
          let clipped = false;
          for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== 'visible') clipped = true;
          }
          if (!clipped) {
            const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '';
            culprits.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} (right ${Math.round(el.getBoundingClientRect().right)})`);
          }
        }
        return {
          scrollWidth: Math.max(root.scrollWidth, document.body.scrollWidth),
          clientWidth: root.clientWidth,
          innerWidth: window.innerWidth,
          culprits: culprits.slice(0, 4),
        };
      });
      if (m.scrollWidth > Math.min(m.clientWidth, m.innerWidth, 375) + 1) {
        overflows.push(`${what} scrolls horizontally at 375 px: scrollWidth ${m.scrollWidth} > screen ` +
          `${m.clientWidth} (innerWidth ${m.innerWidth}); too wide: ${m.culprits.join(', ')}`);
      }
    };
    const overflows = []; // every page is measured; the step fails at the end listing them all
    await p.goto(base + '/');
    await waitSel(p, '#q', 'the search box #q is not visible at 375×700');
    const box = await p.$eval('#q', (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, width: r.width };
    });
    check(box.left >= 0 && box.right <= 375 + 1 && box.width >= 120,
      `the search box does not fit the 375 px screen: ${JSON.stringify(box)}`);
    await noHScroll('the start page');
    await p.goto(`${base}/?q=${encodeURIComponent('营业执照')}`);
    await waitForResults(p, '营业执照', 'mobile results');
    await waitSel(p, '#results li.hit', 'no hits for 营业执照 on mobile');
    await p.screenshot({ path: join(shotDir, 'mobile.png'), fullPage: true });
    await noHScroll('the results page for 营业执照');
    await p.goto(`${base}/docs/YC0310000101?q=${encodeURIComponent('营业执照')}`);
    await waitSel(p, 'h1', 'the document page has no <h1> on mobile');
    await p.screenshot({ path: join(shotDir, 'mobile-doc.png'), fullPage: true });
    await noHScroll('the document page YC0310000101');
    check(overflows.length === 0, overflows.join('\n      '));
  } finally {
    cleanup.push(() => mobile.close());
  }
});

step('9. no script errors or failed requests', async () => {
  check(pageErrors.length === 0, `uncaught errors in the page: ${JSON.stringify(pageErrors)}`);
  check(consoleErrors.length === 0, `console errors: ${JSON.stringify(consoleErrors)}`);
  // The browser asks for /favicon.ico by itself; its 404 is not the page's doing.
  const failed = failedRequests.filter((r) => !/\/favicon\.ico$/.test(r));
  check(failed.length === 0, `requests that failed: ${JSON.stringify(failed)}`);
});

// ------------------------------------------------------------------------------------------

let failed = 0;
const started = Date.now();
for (const { name, fn } of steps) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok    ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${name} (${Date.now() - t0} ms)`);
    console.log(`      ${e instanceof Failure ? e.message : e && e.stack ? e.stack : e}`);
    const on = memo.active || page;
    console.log(`      page: ${JSON.stringify(await pageState(on))}`);
    const shot = join(shotDir, `failure-${name.split('.')[0].replace(/\W+/g, '_')}.png`);
    await on.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`      screenshot: ${shot}`);
  }
  memo.active = null;
  while (cleanup.length) await cleanup.pop()().catch(() => {});
}
await browser.close();
console.log(
  failed
    ? `browser test: ${failed} of ${steps.length} steps FAILED (${Date.now() - started} ms); screenshots in ${shotDir}`
    : `browser test: all ${steps.length} steps ok (${Date.now() - started} ms); screenshots in ${shotDir}`,
);
process.exit(failed ? 1 : 0);
