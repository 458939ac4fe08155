/**
 * @module routes/console
 * A first operator page: paste a token, see models, versions, validation and aliases. The full
 * rollout console (cookie sessions, CSRF, charts) is issue 6; this page only reads the API.
 */
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/context.ts';

export const consoleRoutes = new Hono<AppEnv>();

// The token stays in sessionStorage of this tab and is sent as a bearer header to /v1 only.
const script = html`<script type="module">
const $ = (s) => document.querySelector(s);
const esc = (v) => String(v ?? '').replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
async function api(path) {
  const res = await fetch(path, { headers: { authorization: 'Bearer ' + sessionStorage.getItem('mf-token') } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error?.code + ': ' + body.error?.message);
  return body;
}
async function render() {
  const out = $('#models');
  try {
    const { models } = await api('/v1/models');
    const parts = await Promise.all(models.map(async (m) => {
      const { versions } = await api('/v1/models/' + m.name + '/versions');
      const rows = versions.map((v) => '<tr><td>' + v.version + '</td><td class="' + v.status + '">' + v.status + '</td><td>' + esc(v.aliases.join(', ')) +
        '</td><td>' + esc(Object.entries(v.metrics.values ?? {}).map(([k, x]) => k + '=' + x).join(' ')) + '</td><td>' + (v.totalBytes / 1024).toFixed(1) +
        ' KiB</td><td><code>' + esc((v.manifestDigest ?? '').slice(0, 16)) + '</code></td><td>' + esc(v.validation.reasons.map((r) => r.message).join('; ')) + '</td></tr>').join('');
      return '<section><h2>' + esc(m.name) + '</h2><table><tr><th>version</th><th>status</th><th>aliases</th><th>metrics</th><th>size</th><th>manifest</th><th>validation</th></tr>' + rows + '</table></section>';
    }));
    out.innerHTML = parts.join('') || '<p>No models yet.</p>';
  } catch (e) { out.textContent = e.message; }
}
$('#login').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem('mf-token', $('#token').value); render(); });
if (sessionStorage.getItem('mf-token')) render();
</script>`;

consoleRoutes.get('/', (c) =>
  c.html(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>modelfleet console</title>
        <style>{`body{font:14px system-ui;margin:2rem;color:#1b1f24}table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}.rejected{color:#b42318}.active{color:#067647}`}</style>
      </head>
      <body>
        <h1>modelfleet</h1>
        <form id="login">
          <input id="token" type="password" placeholder="operator token (mft_…)" size={48} /> <button>Sign in</button>
        </form>
        <div id="models" />
        {script}
      </body>
    </html>,
  ),
);
