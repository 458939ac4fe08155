/**
 * @module aggregator
 * The Durable Object that adds device sketches into one (model, version, window, cohort)
 * aggregate. Each upload is validated at the edge before it gets here; the object rejects a
 * second upload from the same device in the window (replay), adds the vector and forgets it.
 * The seen-set and the aggregate change in one storage transaction, so a failure leaves both
 * as they were. Closing it turns the raw sums into a noised release kept until the caller has
 * recorded it (release, then ack), so a crash between the two is retried, never lost.
 */
import { DurableObject } from 'cloudflare:workers';
import { type ReleaseNoise, type SketchAggregate, type SketchLayout, type SketchUpload, addReleaseNoise, addUpload, cryptoWords, emptyAggregate, sha256Hex, utf8 } from '@modelfleet/protocol';

/**
 * Words for the discrete Gaussian release noise, from the platform CSPRNG: DP noise must not be
 * predictable. Drawn lazily (workerd refuses random values at global scope).
 */
const words = cryptoWords();

/** A closed window's release: the noised sums (null below the device floor) and the σ they carry. */
export interface Release {
  devices: number;
  released: SketchAggregate | null;
  noise: ReleaseNoise | null;
}

export interface AddResult {
  accepted: boolean;
  devices: number;
  /** Refused because its network already holds `cap` unattested devices here (SPEC 11.3). */
  capped?: boolean;
}

/** Where an upload comes from: a keyed digest of its network, the cap per network (0 = none), and whether the device is attested. */
export interface UploadSource { network: string; cap: number; attested: boolean }

/** How many distinct networks stand behind this aggregate, and what their caps refused. */
export interface NetworkCounts { networks: number; attested: number; capped: number; largest: number }

export class SketchAggregator extends DurableObject {
  private readonly sql = this.ctx.storage.sql;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql.exec('CREATE TABLE IF NOT EXISTS seen (device TEXT PRIMARY KEY)');
    // Per network: unattested and attested devices counted here (the digest, never an address).
    this.sql.exec('CREATE TABLE IF NOT EXISTS networks (tag TEXT PRIMARY KEY, devices INTEGER NOT NULL, attested INTEGER NOT NULL)');
  }

  /** Adds one validated upload; `device` is a salted hash of the device key, never the key. */
  async add(layout: SketchLayout, device: string, upload: SketchUpload, source?: UploadSource): Promise<AddResult> {
    return this.ctx.storage.transactionSync(() => {
      if (this.ctx.storage.kv.get<boolean>('closed')) return { accepted: false, devices: -1 };
      const agg = (this.ctx.storage.kv.get<SketchAggregate>('aggregate')) ?? emptyAggregate(layout, upload.window);
      if (this.sql.exec('SELECT 1 FROM seen WHERE device = ?', device).toArray().length > 0) {
        return { accepted: false, devices: agg.devices };
      }
      if (source) {
        // One network adds at most `cap` unattested devices: ids invented behind one address stop there.
        const row = this.sql.exec<{ devices: number }>('SELECT devices FROM networks WHERE tag = ?', source.network).toArray()[0];
        if (!source.attested && source.cap > 0 && (row?.devices ?? 0) >= source.cap) {
          this.ctx.storage.kv.put('capped', (this.ctx.storage.kv.get<number>('capped') ?? 0) + 1);
          return { accepted: false, devices: agg.devices, capped: true };
        }
        this.sql.exec(
          'INSERT INTO networks (tag, devices, attested) VALUES (?1, ?2, ?3) ON CONFLICT (tag) DO UPDATE SET devices = devices + ?2, attested = attested + ?3',
          source.network, source.attested ? 0 : 1, source.attested ? 1 : 0,
        );
      }
      addUpload(agg, upload);
      this.sql.exec('INSERT INTO seen (device) VALUES (?)', device);
      this.ctx.storage.kv.put('aggregate', agg);
      return { accepted: true, devices: agg.devices };
    });
  }

  /**
   * Closes the window: with at least `minDevices`, draws discrete Gaussian noise (σ per group,
   * normalised units) onto every sum, once. The noised release is stored here and the raw sums are
   * deleted in the same transaction, so fresh noise can never be drawn for the same data (an
   * averaging attack) and a crash of the caller before it has recorded the release loses nothing:
   * every call until `ack()` returns the stored release — its own noise σ, whatever `noise` asks
   * for now. After `ack()` only the count is left (`alreadyClosed`).
   */
  async release(minDevices: number, noise: ReleaseNoise): Promise<Release & { alreadyClosed: boolean }> {
    return this.ctx.storage.transactionSync(() => {
      const kv = this.ctx.storage.kv;
      const stored = kv.get<Release>('release');
      if (stored) return { ...stored, alreadyClosed: false };
      if (kv.get<boolean>('closed')) return { devices: kv.get<number>('closedDevices') ?? 0, released: null, noise: null, alreadyClosed: true };
      const agg = kv.get<SketchAggregate>('aggregate');
      const devices = agg?.devices ?? 0;
      let release: Release = { devices, released: null, noise: null };
      if (agg && devices >= minDevices) {
        addReleaseNoise(agg, noise, words);
        release = { devices, released: agg, noise };
      }
      kv.put('closed', true);
      kv.put('closedDevices', devices);
      kv.delete('aggregate');
      kv.put('release', release);
      return { ...release, alreadyClosed: false };
    });
  }

  /** Distinct networks behind the aggregate (kept after the release: counts, not data). */
  async networkCounts(): Promise<NetworkCounts> {
    const row = this.sql.exec<{ networks: number; attested: number; largest: number | null }>(
      'SELECT COUNT(*) AS networks, COALESCE(SUM(attested), 0) AS attested, MAX(devices + attested) AS largest FROM networks',
    ).toArray()[0]!;
    return { networks: row.networks, attested: row.attested, capped: this.ctx.storage.kv.get<number>('capped') ?? 0, largest: row.largest ?? 0 };
  }

  /** The caller has recorded the release (D1): the stored copy goes; the count stays. Idempotent. */
  async ack(): Promise<void> {
    this.ctx.storage.kv.delete('release');
  }

  /** How many devices contributed and a digest of the raw sums (never the sums themselves); after the release, how many had. */
  async status(): Promise<{ devices: number; digest: string | null; closed: boolean }> {
    if (this.ctx.storage.kv.get<boolean>('closed')) return { devices: this.ctx.storage.kv.get<number>('closedDevices') ?? 0, digest: null, closed: true };
    const agg = this.ctx.storage.kv.get<SketchAggregate>('aggregate');
    return { devices: agg?.devices ?? 0, digest: agg ? await sha256Hex(utf8(JSON.stringify(agg))) : null, closed: false };
  }
}
