"""The preview page: plain HTML and a little JavaScript, no build step."""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from preview_server.workspace import Workspace

_STYLE = """
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: #1d2433; display: flex; height: 100vh; }
nav { width: 260px; overflow: auto; background: #f4f6f9; border-right: 1px solid #d9dee7; padding: 10px; }
nav h2 { font-size: 12px; text-transform: uppercase; color: #5b6b82; margin: 14px 0 4px; }
nav a { display: block; padding: 2px 6px; color: #0b2545; text-decoration: none; border-radius: 4px; }
nav a.current { background: #13a89e; color: white; }
main { flex: 1; display: flex; flex-direction: column; min-width: 0; }
header { padding: 8px 12px; border-bottom: 1px solid #d9dee7; display: flex; gap: 16px; align-items: center; }
#panes { flex: 1; display: flex; min-height: 0; }
#panes > section { flex: 1; display: flex; flex-direction: column; min-width: 0; border-right: 1px solid #d9dee7; }
#panes h3 { margin: 0; padding: 6px 10px; font-size: 12px; background: #fafbfc; border-bottom: 1px solid #eee; }
iframe { flex: 1; border: 0; width: 100%; background: white; }
#lint { max-height: 120px; overflow: auto; padding: 6px 12px; border-top: 1px solid #d9dee7; font-size: 12px; }
#lint .bad { color: #b3261e; } #lint .note { color: #5b6b82; }
#einvoice { max-height: 140px; overflow: auto; padding: 6px 10px; border-top: 1px solid #d9dee7; font-size: 12px; }
#einvoice .ok { color: #1b7a3a; } #einvoice .bad { color: #b3261e; } #einvoice .note { color: #5b6b82; }
#einvoice code { font-weight: 600; }
#overlay { display: none; position: fixed; inset: 40px 60px auto 300px; background: #fff4f4; border: 2px solid #b3261e;
           padding: 14px 18px; box-shadow: 0 6px 24px rgba(0,0,0,.2); z-index: 10; }
#overlay pre { background: #2b2d31; color: #ffd7d7; padding: 8px; white-space: pre-wrap; }
"""

_SCRIPT = """
const state = JSON.parse(document.getElementById('state').textContent);
const base = `/preview/${state.template}/${state.fixture}`;
const query = state.lang ? `?lang=${state.lang}` : '';
const htmlFrame = document.getElementById('html');
const pdfFrame = document.getElementById('pdf');
let version = 0;

function showError(error) {
  const overlay = document.getElementById('overlay');
  if (!error) { overlay.style.display = 'none'; return; }
  overlay.querySelector('.where').textContent = error.file + (error.line ? ', line ' + error.line : '');
  overlay.querySelector('.message').textContent = error.message;
  overlay.querySelector('pre').textContent = error.snippet || '';
  overlay.style.display = 'block';
}

async function refreshHtml() {
  const response = await fetch(base + '.html' + query, {cache: 'no-store'});
  if (response.status !== 200) { showError((await response.json()).error); return false; }
  showError(null);
  const html = await response.text();
  const scroll = htmlFrame.contentWindow ? htmlFrame.contentWindow.scrollY : 0;
  // Resolved once the new HTML is laid out on screen (or after 2 s, whatever happened):
  // the PDF is asked for only then, so that its render does not take the CPU the
  // browser needs to show the HTML.
  const shown = new Promise(resolve => {
    const giveUp = setTimeout(resolve, 2000);
    htmlFrame.onload = () => {
      clearTimeout(giveUp);
      const body = htmlFrame.contentDocument.body;
      const room = htmlFrame.clientWidth - 16;
      if (body.scrollWidth > room) body.style.zoom = room / body.scrollWidth;  // fit the A4 page
      htmlFrame.contentWindow.scrollTo(0, scroll);
      document.body.dataset.version = ++version;
      resolve();
    };
  });
  htmlFrame.srcdoc = html;
  await shown;
  return true;
}

async function refreshPdf() {
  const started = performance.now();
  const response = await fetch(base + '.pdf' + query, {cache: 'no-store'});
  if (response.status !== 200) { showError((await response.json()).error); return; }
  const blob = await response.blob();
  pdfFrame.src = URL.createObjectURL(blob);
  document.getElementById('pdfinfo').textContent =
    `${response.headers.get('X-Pages')} pages, ${(blob.size / 1024).toFixed(0)} KB, ` +
    `${response.headers.get('X-Cache')} (${response.headers.get('X-Render-Ms')} ms render, ` +
    `${Math.round(performance.now() - started)} ms here)`;
  document.getElementById('pdfinfo').dataset.cache = response.headers.get('X-Cache');
}

async function refreshLint() {
  const response = await fetch('/lint/' + state.template + '/' + state.fixture + query, {cache: 'no-store'});
  const panel = document.getElementById('lint');
  if (response.status !== 200) { panel.textContent = ''; return; }
  const report = await response.json();
  const lines = [];
  for (const name of report.missing) lines.push(`<div class="bad">missing variable: ${name}</div>`);
  for (const url of report.remote_urls) lines.push(`<div class="bad">remote URL (refused in production): ${url}</div>`);
  if (report.unused.length) lines.push(`<div class="note">provided but unused: ${report.unused.join(', ')}</div>`);
  panel.innerHTML = lines.join('') || '<div class="note">no findings</div>';
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

async function refreshEInvoice() {
  const response = await fetch('/einvoice/' + state.fixture + query, {cache: 'no-store'});
  const panel = document.getElementById('einvoice');
  if (response.status !== 200) { panel.textContent = ''; return; }
  const report = await response.json();
  const lines = [];
  for (const [syntax, name] of [['cii', 'Factur-X (CII)'], ['ubl', 'UBL']]) {
    const verdict = report[syntax];
    const fatal = verdict.failures.filter(f => f.flag === 'fatal');
    const label = name + (syntax === 'ubl' && verdict.peppol ? ', Peppol BIS' : '');
    lines.push(verdict.valid
      ? `<div class="ok" data-syntax="${syntax}">${label}: valid EN 16931</div>`
      : `<div class="bad" data-syntax="${syntax}">${label}: breaks ${fatal.length} rule(s)</div>`);
    for (const f of verdict.failures) {
      lines.push(`<div class="${f.flag === 'fatal' ? 'bad' : 'note'}"><code>${escapeHtml(f.rule)}</code> ` +
                 `${escapeHtml(f.text)} <span class="note">${escapeHtml(f.location)}</span></div>`);
    }
  }
  panel.innerHTML = lines.join('');
}

// The designer's loop first: the HTML, then the PDF; the lint and e-invoice panels only
// once both are on screen, so that their requests never queue ahead of the next save's.
// A save that lands mid-refresh starts over; the older refresh stops where it is.
let latest = 0;
async function refresh() {
  const mine = ++latest;
  if (!(await refreshHtml()) || mine !== latest) return;
  await refreshPdf();
  if (mine !== latest) return;
  await Promise.all([refreshLint(), refreshEInvoice()]);
}

const events = new EventSource('/events');
events.addEventListener('change', refresh);
refresh();
"""


def _link(template: str, fixture: str, language: str | None, current: bool) -> str:
    query = f"?lang={escape(quote(language))}" if language else ""
    css = ' class="current"' if current else ""
    label = f"{fixture}{f' ({language})' if language else ''}"
    return (
        f'<a{css} href="/preview/{escape(template)}/{escape(fixture)}{query}">{escape(label)}</a>'
    )


def page_html(
    workspace: Workspace, template: str | None, fixture: str | None, language: str | None
) -> str:
    templates, fixtures = workspace.templates(), workspace.fixtures()
    template = template or workspace.default_template()
    fixture = fixture or (fixtures[0] if fixtures else "")
    nav = []
    for name in templates:
        nav.append(f"<h2>{escape(name)}</h2>")
        variants = workspace.languages(name)[1:]
        for fixture_name in fixtures:
            nav.append(
                _link(
                    name,
                    fixture_name,
                    None,
                    (name, fixture_name, language) == (template, fixture, None),
                )
            )
            nav.extend(
                _link(
                    name,
                    fixture_name,
                    lang,
                    (name, fixture_name, language) == (template, fixture, lang),
                )
                for lang in variants
            )
    state = json.dumps({"template": template, "fixture": fixture, "lang": language})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(template)} / {escape(fixture)} — invoice preview</title>
<style>{_STYLE}</style></head>
<body>
<nav>{"".join(nav)}</nav>
<main>
  <header><strong>{escape(template)}</strong> &times; <strong>{escape(fixture)}</strong>
    {f"({escape(language)})" if language else ""}
    <a href="/preview/{escape(template)}/{escape(fixture)}.pdf{f"?lang={escape(quote(language))}" if language else ""}">PDF</a>
    <a href="/email/{escape(fixture)}{f"?lang={escape(quote(language))}" if language else ""}">Email</a>
    <a href="/email/{escape(fixture)}?reminder=7{f"&amp;lang={escape(quote(language))}" if language else ""}">Reminder</a>
    <span id="pdfinfo"></span></header>
  <div id="panes">
    <section><h3>HTML</h3><iframe id="html" title="HTML"></iframe></section>
    <section><h3>PDF</h3><iframe id="pdf" title="PDF"></iframe>
      <div id="einvoice" aria-label="E-invoice rules"></div></section>
  </div>
  <div id="lint"></div>
</main>
<div id="overlay" role="alert"><strong class="where"></strong><p class="message"></p><pre></pre></div>
<script type="application/json" id="state">{escape(state, quote=False)}</script>
<script>{_SCRIPT}</script>
</body></html>"""
