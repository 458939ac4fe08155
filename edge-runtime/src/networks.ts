/**
 * @module networks
 * The client network behind a device request, for per-network caps on telemetry (SPEC 11.3):
 * IPv4 /24 or IPv6 /48 of CF-Connecting-IP. Cloudflare sets that header on every request and
 * overwrites any a client sends; workerd sets it to the peer address locally. A /24 and a /48 are
 * what one subscriber or one rented server commonly controls, so an attacker who invents device
 * ids still lands them in one network. The aggregate stores a keyed digest of the prefix, never
 * the address.
 */
const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Eight 16-bit groups of an IPv6 address (with `::` and an embedded IPv4 tail), or null. */
function ipv6Groups(ip: string): number[] | null {
  const v4tail = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  let text = ip;
  if (v4tail) {
    const o = v4tail[1]!.split('.').map(Number);
    text = `${ip.slice(0, -v4tail[1]!.length)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string) =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(0, fill)).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null;
}

/** `v4:a.b.c` or `v6:g0:g1:g2` (IPv4-mapped IPv6 counts as IPv4); `unknown` when there is no usable address. */
export function networkPrefix(ip: string | null | undefined): string {
  const address = (ip ?? '').trim();
  const v4 = V4.exec(address);
  if (v4 && v4.slice(1).every((o) => Number(o) <= 255)) return `v4:${v4.slice(1, 4).join('.')}`;
  const g = ipv6Groups(address);
  if (!g) return 'unknown';
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `v4:${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}`;
  return `v6:${g
    .slice(0, 3)
    .map((x) => x.toString(16))
    .join(':')}`;
}

export const clientAddress = (headers: Headers): string | null => headers.get('cf-connecting-ip');
