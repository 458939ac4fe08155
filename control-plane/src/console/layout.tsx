/**
 * @module console/layout
 * The page shell: header with navigation and the signed-in operator, a flash line, and the
 * console's assets by content-hashed name. No inline script or style (the CSP forbids both).
 */
import type { Child } from 'hono/jsx';
import { ASSET_NAMES } from './assets.gen.ts';
import type { Operator } from '../http/context.ts';

export interface PageProps {
  title: string;
  operator?: Operator;
  csrf?: string;
  flash?: { kind: 'ok' | 'error'; text: string } | null;
  /** Pages with charts load uPlot and the chart island. */
  charts?: boolean;
  children?: Child;
}

export const asset = (name: keyof typeof ASSET_NAMES) => `/console/assets/${ASSET_NAMES[name]}`;

export function Page({ title, operator, csrf, flash, charts, children }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>{`${title} · modelfleet`}</title>
        <link rel="stylesheet" href={asset('console.css')} />
        {charts && <link rel="stylesheet" href={asset('uplot.css')} />}
        {csrf && <meta name="csrf-token" content={csrf} />}
        <script src={asset('app.js')} defer />
        {charts && <script src={asset('charts.js')} defer />}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/console">
            modelfleet
          </a>
          {operator && (
            <nav aria-label="Main">
              <ul>
                <li>
                  <a href="/console">Models</a>
                </li>
                <li>
                  <a href="/console/rollouts">Rollouts</a>
                </li>
                <li>
                  <a href="/console/audit">Audit log</a>
                </li>
                <li>
                  <a href="/console/deliveries">Webhooks</a>
                </li>
              </ul>
            </nav>
          )}
          {operator && (
            <div class="who">
              <span>{operator.actor}</span>
              <span class="badge" data-role={operator.role}>
                {operator.role}
              </span>
              <form method="post" action="/console/logout" class="inline">
                <input type="hidden" name="_csrf" value={csrf} />
                <button type="submit">Sign out</button>
              </form>
            </div>
          )}
        </header>
        <main id="main">
          {flash && (
            <p
              class={`flash ${flash.kind === 'error' ? 'error' : ''}`}
              role={flash.kind === 'error' ? 'alert' : 'status'}
            >
              {flash.text}
            </p>
          )}
          {children}
        </main>
      </body>
    </html>
  );
}
