/**
 * @module webhooks/target
 * Where a webhook may point (issue 15). The control plane POSTs to an admin-given URL; pointed at
 * loopback, a private network or link-local space (cloud metadata at 169.254.169.254), that is a
 * request forgery from inside the platform. Refused, in every spelling the URL parser accepts:
 * `http://2130706433/`, `0x7f.1`, `0177.0.0.1` (WHATWG URL normalises these to 127.0.0.1 before we
 * look), `[::ffff:127.0.0.1]`, `[::1]`, `localhost` and its subdomains.
 *
 * Checked at registration and again before every delivery (a hook registered before this check,
 * or an allow-list since narrowed). Not caught: a DNS name that *resolves* to a private address
 * (Workers cannot resolve names before fetching, and a resolved answer could change before the
 * fetch anyway); Cloudflare's own egress does not route to the account's private networks.
 *
 * WEBHOOK_ALLOW_HOSTS (comma-separated hostnames, compared after URL normalisation) lets local
 * development and tests deliver to a receiver on 127.0.0.1; plain http is allowed only to those.
 */
import { ApiError } from '@modelfleet/server-shared';

/** WEBHOOK_ALLOW_HOSTS as hostnames the URL parser would produce (`[::1]`, `127.0.0.1`); unreadable entries are ignored. */
export function allowedHosts(list: string | undefined): Set<string> {
  const hosts = new Set<string>();
  for (const entry of (list ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)) {
    try {
      hosts.add(new URL(`http://${entry}`).hostname);
    } catch {
      // not a hostname: allows nothing
    }
  }
  return hosts;
}

const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
/** [network, prefix length, what it is]; IPv4 in host order. */
const V4_REFUSED: [number, number, string][] = [
  [v4(0, 0, 0, 0), 8, 'this network (0.0.0.0/8)'],
  [v4(10, 0, 0, 0), 8, 'private (10.0.0.0/8)'],
  [v4(100, 64, 0, 0), 10, 'shared address space (100.64.0.0/10)'],
  [v4(127, 0, 0, 0), 8, 'loopback (127.0.0.0/8)'],
  [v4(169, 254, 0, 0), 16, 'link-local (169.254.0.0/16)'],
  [v4(172, 16, 0, 0), 12, 'private (172.16.0.0/12)'],
  [v4(192, 168, 0, 0), 16, 'private (192.168.0.0/16)'],
  [v4(224, 0, 0, 0), 4, 'multicast (224.0.0.0/4)'],
  [v4(240, 0, 0, 0), 4, 'reserved (240.0.0.0/4)'],
];

function parseV4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? v4(parts[0]!, parts[1]!, parts[2]!, parts[3]!) : null;
}

function v4Refusal(addr: number): string | null {
  for (const [net, bits, what] of V4_REFUSED) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((addr & mask) >>> 0 === net) return what;
  }
  return null;
}

/** An IPv6 literal (brackets removed) as eight 16-bit groups, or null if it is not one. */
function parseV6(host: string): number[] | null {
  // WHATWG URL serialises IPv6 as hex groups; a dotted IPv4 tail is turned into two groups anyway.
  const text = host.replace(/(\d{1,3}(?:\.\d{1,3}){3})$/, (dotted) => {
    const a = parseV4(dotted);
    return a === null ? 'x' : `${(a >>> 16).toString(16)}:${(a & 0xffff).toString(16)}`;
  });
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? fill : 0).fill(0), ...rest];
  return all.every((g) => Number.isInteger(g)) ? all : null;
}

function v6Refusal(g: number[]): string | null {
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embedded = ((g[6]! << 16) | g[7]!) >>> 0;
  if (zeros(8)) return 'unspecified (::)';
  if (zeros(7) && g[7] === 1) return 'loopback (::1)';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  if (
    (zeros(5) && g[5] === 0xffff) ||
    zeros(6) ||
    (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
  ) {
    const why = v4Refusal(embedded);
    return why && `${why}, as IPv6`;
  }
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique local (fc00::/7)';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local (fe80::/10)';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast (ff00::/8)';
  return null;
}

/** Why a URL hostname (as `new URL` normalised it) is not a public target, or null if it is. */
export function privateHostReason(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback (localhost)';
  if (host.startsWith('[') && host.endsWith(']')) {
    const groups = parseV6(host.slice(1, -1));
    return groups ? v6Refusal(groups) : 'an IPv6 literal that cannot be read';
  }
  const addr = parseV4(host);
  return addr === null ? null : v4Refusal(addr);
}

/**
 * A webhook URL fit to POST to: https to a public host, or any allow-listed host (http too).
 * Throws `webhook_url_invalid` (shape) or `webhook_target_forbidden` (where it points).
 */
export function checkWebhookTarget(raw: string, allow: Set<string>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError('webhook_url_invalid', 'the webhook URL cannot be parsed');
  }
  if (url.username || url.password)
    throw new ApiError(
      'webhook_url_invalid',
      'a webhook URL must not carry credentials; authenticate with the signature',
    );
  const allowed = allow.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) {
    throw new ApiError(
      'webhook_url_invalid',
      `webhook URLs must be https:// (plain http only to a host in WEBHOOK_ALLOW_HOSTS), got ${url.protocol}//${url.hostname}`,
    );
  }
  const why = allowed ? null : privateHostReason(url.hostname);
  if (why) {
    throw new ApiError(
      'webhook_target_forbidden',
      `webhook host ${url.hostname} is ${why}: webhooks go to public hosts (list a development receiver in WEBHOOK_ALLOW_HOSTS)`,
      { host: url.hostname },
    );
  }
  return url;
}

/** What a reader below admin sees of a webhook URL: scheme and host, no path, query or credentials. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '(unreadable URL)';
  }
}

/** An audit record as a reader below admin sees it: any `url` in before/after cut to scheme and host. */
export function redactAuditUrls<T extends { before: unknown; after: unknown }>(record: T): T {
  const cut = (v: unknown) =>
    v && typeof v === 'object' && typeof (v as { url?: unknown }).url === 'string'
      ? { ...v, url: redactUrl((v as { url: string }).url) }
      : v;
  return { ...record, before: cut(record.before), after: cut(record.after) };
}
