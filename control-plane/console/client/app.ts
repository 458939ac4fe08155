/**
 * The console's one island on every page. Forms marked data-action-form are sent with fetch
 * (CSRF header from the page's meta tag) after an accessible confirmation dialog when they ask
 * for one; the button is disabled while the request runs, so a double click acts once. Regions
 * marked data-live are re-fetched every few seconds and after each action taken inside them
 * (then announced with a `live:updated` event, on which the chart island redraws them). Without script the
 * forms still post and redirect.
 */
const csrf = () => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
const POLL_MS = 2000;

function confirmDialog(text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.setAttribute('aria-labelledby', 'confirm-text');
    const p = document.createElement('p');
    p.id = 'confirm-text';
    p.textContent = text;
    const yes = Object.assign(document.createElement('button'), {
      type: 'button',
      textContent: 'Confirm',
      className: 'primary',
    });
    const no = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Cancel' });
    yes.dataset.testid = 'confirm';
    const row = document.createElement('div');
    row.className = 'actions';
    row.append(yes, no);
    dialog.append(p, row);
    document.body.append(dialog);
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener('click', () => close(true));
    no.addEventListener('click', () => close(false));
    dialog.addEventListener('cancel', () => close(false)); // Escape
    dialog.showModal();
    no.focus(); // the safe choice has focus
  });
}

function flash(text: string, kind: 'ok' | 'error') {
  let el = document.querySelector<HTMLElement>('main > .flash');
  if (!el) {
    el = document.createElement('p');
    document.querySelector('main')?.prepend(el);
  }
  el.className = `flash ${kind === 'error' ? 'error' : ''}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.textContent = text;
}

async function refreshLive(): Promise<void> {
  await Promise.all(
    [...document.querySelectorAll<HTMLElement>('[data-live]')].map(async (region) => {
      const res = await fetch(region.dataset.live!, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (res.redirected || !res.ok) return; // signed out or gone: leave the last view
      const html = await res.text();
      if (region.dataset.lastHtml !== html) {
        // Keep focus on the same control across the swap when possible.
        const focused =
          document.activeElement instanceof HTMLElement ? document.activeElement.dataset.testid : undefined;
        region.innerHTML = html;
        region.dataset.lastHtml = html;
        region.dispatchEvent(new CustomEvent('live:updated', { bubbles: true })); // the chart island redraws what it holds
        if (focused) region.querySelector<HTMLElement>(`[data-testid="${focused}"]`)?.focus();
      }
    }),
  );
}

document.addEventListener('submit', async (event) => {
  const form = event.target as HTMLFormElement;
  if (!form.matches('[data-action-form]')) return;
  event.preventDefault();
  if (form.dataset.busy) return; // a second click while the first is asked or in flight
  form.dataset.busy = '1';
  const text = form.dataset.confirm;
  if (text && !(await confirmDialog(text))) return void delete form.dataset.busy;
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    const res = await fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(new FormData(form) as unknown as Record<string, string>),
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'x-csrf-token': csrf() },
      redirect: 'follow',
    });
    const body = (await res.json().catch(() => null)) as {
      message?: string;
      location?: string;
      error?: { code: string; message: string };
    } | null;
    if (res.ok && body?.location) return location.assign(body.location);
    if (res.ok) {
      flash(body?.message ?? 'done', 'ok');
      // A form inside a live region (the rollout panel) shows its effect there; any other (the
      // model page's, beside its live fleet chart) changed what only a reload shows.
      if (form.closest('[data-live]')) await refreshLive();
      else location.reload();
    } else {
      flash(body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`, 'error');
    }
  } catch {
    flash('network error: nothing was changed by this page; try again', 'error');
  } finally {
    delete form.dataset.busy;
    buttons.forEach((b) => b.isConnected && (b.disabled = false));
  }
});

if (document.querySelector('[data-live]')) setInterval(() => void refreshLive().catch(() => {}), POLL_MS);
