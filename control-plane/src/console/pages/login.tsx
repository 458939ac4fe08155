/** @module console/pages/login — the sign-in form: an operator token, posted once; the browser keeps only a session id. */
import { Page } from '../layout.tsx';

const WHY: Record<string, string> = {
  token_expired: 'Your token has expired. Ask an admin for a new one.',
  unauthorized: 'That token is unknown or revoked.',
  signed_out: 'Signed out.',
  session_ended: 'Your session has ended. Sign in again.',
  session_expired: 'Your session has expired. Sign in again.',
};

export function LoginPage({ error }: { error?: string | undefined }) {
  const text = error ? (WHY[error] ?? 'Sign-in failed.') : null;
  return (
    <Page title="Sign in" flash={text ? { kind: error === 'signed_out' ? 'ok' : 'error', text } : null}>
      <h1>Sign in</h1>
      <form method="post" action="/console/login" class="stack">
        <label for="token">
          Operator token
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            placeholder="mft_…"
            required
            maxlength={256}
          />
        </label>
        <p class="muted">
          The token is checked once and not kept: this browser gets a session id in an HttpOnly cookie that scripts on
          the page cannot read, and signing out ends it. Viewer tokens see everything and change nothing.
        </p>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </Page>
  );
}
