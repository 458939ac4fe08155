/**
 * @module aggregator
 * The Durable Object that adds device sketches into one (model, version, window, cohort)
 * aggregate. Each upload is validated at the edge before it gets here; the object rejects a
 * second upload from the same device in the window (replay), adds the vector and forgets it.
 * The seen-set and the aggregate change in one storage transaction, so a failure leaves both
 * as they were. Closing it turns the raw sums into a noised release kept until the caller has
 * recorded it (release, then ack), so a crash between the two is retried, never lost. A rollout
 * step's aggregate instead releases increments (releaseIncrement, then ackIncrement): the sums of
 * the devices added since the last increment, noised once and kept until acknowledged, while the
 * aggregate goes on collecting — and its seen-set stays, so each device is in one increment only.
 */
import { DurableObject } from 'cloudflare:workers';
import type {
  AddResult,
  AggregateStatus,
  Aggregator,
  IncrementRelease,
  NetworkCounts,
  Release,
  UploadSource,
} from '@modelfleet/server-shared';
import {
  type ReleaseNoise,
  type SketchAggregate,
  type SketchLayout,
  type SketchUpload,
  addReleaseNoise,
  addUpload,
  cryptoWords,
  emptyAggregate,
  sha256Hex,
  utf8,
} from '@modelfleet/protocol';

/**
 * Words for the discrete Gaussian release noise, from the platform CSPRNG: DP noise must not be
 * predictable. Drawn lazily (workerd refuses random values at global scope).
 */
const words = cryptoWords();

export class SketchAggregator extends DurableObject implements Aggregator {
  private readonly sql = this.ctx.storage.sql;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql.exec('CREATE TABLE IF NOT EXISTS seen (device TEXT PRIMARY KEY)');
    // Per network: unattested and attested devices counted here (the digest, never an address).
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS networks (tag TEXT PRIMARY KEY, devices INTEGER NOT NULL, attested INTEGER NOT NULL)',
    );
  }

  /** Adds one validated upload; `device` is a salted hash of the device key, never the key. */
  async add(layout: SketchLayout, device: string, upload: SketchUpload, source?: UploadSource): Promise<AddResult> {
    return this.ctx.storage.transactionSync(() => {
      if (this.ctx.storage.kv.get<boolean>('closed')) return { accepted: false, devices: -1 };
      const agg = this.ctx.storage.kv.get<SketchAggregate>('aggregate') ?? emptyAggregate(layout, upload.window);
      if (this.sql.exec('SELECT 1 FROM seen WHERE device = ?', device).toArray().length > 0) {
        return { accepted: false, devices: agg.devices };
      }
      if (source) {
        // One network adds at most `cap` unattested devices: ids invented behind one address stop there.
        const row = this.sql
          .exec<{ devices: number }>('SELECT devices FROM networks WHERE tag = ?', source.network)
          .toArray()[0];
        if (!source.attested && source.cap > 0 && (row?.devices ?? 0) >= source.cap) {
          this.ctx.storage.kv.put('capped', (this.ctx.storage.kv.get<number>('capped') ?? 0) + 1);
          return { accepted: false, devices: agg.devices, capped: true };
        }
        this.sql.exec(
          'INSERT INTO networks (tag, devices, attested) VALUES (?1, ?2, ?3) ON CONFLICT (tag) DO UPDATE SET devices = devices + ?2, attested = attested + ?3',
          source.network,
          source.attested ? 0 : 1,
          source.attested ? 1 : 0,
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
      if (kv.get<boolean>('closed'))
        return { devices: kv.get<number>('closedDevices') ?? 0, released: null, noise: null, alreadyClosed: true };
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

  /**
   * Releases an increment: with at least `minDevices` added since the last increment, draws the
   * noise onto their sums once, stores the noised release under the next index and starts a fresh
   * sum, in one transaction. Every call until `ackIncrement(index)` returns that stored release
   * (its own σ, whatever `noise` asks now), so a caller that crashes before recording it records
   * the same noised sums on its retry: fresh noise is never drawn for the same devices. Devices
   * that arrive meanwhile go to the next increment; one already seen is refused as before, so the
   * increments hold disjoint devices (what lets each spend the same per-device ε: analysis.ts).
   */
  async releaseIncrement(minDevices: number, noise: ReleaseNoise): Promise<IncrementRelease> {
    return this.ctx.storage.transactionSync(() => {
      const kv = this.ctx.storage.kv;
      const pending = kv.get<IncrementRelease>('pending');
      if (pending) return pending;
      const agg = kv.get<SketchAggregate>('aggregate');
      const devices = agg?.devices ?? 0;
      if (kv.get<boolean>('closed') || !agg || devices < minDevices)
        return { index: null, devices, released: null, noise: null };
      addReleaseNoise(agg, noise, words);
      const release: IncrementRelease = {
        index: (kv.get<number>('increments') ?? 0) + 1,
        devices,
        released: agg,
        noise,
      };
      kv.put('increments', release.index);
      kv.put('releasedDevices', (kv.get<number>('releasedDevices') ?? 0) + devices);
      kv.delete('aggregate');
      kv.put('pending', release);
      return release;
    });
  }

  /** Increment `index` is recorded (D1): its stored release goes. Idempotent; another index is left alone. */
  async ackIncrement(index: number): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      if (this.ctx.storage.kv.get<IncrementRelease>('pending')?.index === index) this.ctx.storage.kv.delete('pending');
    });
  }

  /** Distinct networks behind the aggregate (kept after the release: counts, not data). */
  async networkCounts(): Promise<NetworkCounts> {
    const row = this.sql
      .exec<{ networks: number; attested: number; largest: number | null }>(
        'SELECT COUNT(*) AS networks, COALESCE(SUM(attested), 0) AS attested, MAX(devices + attested) AS largest FROM networks',
      )
      .toArray()[0]!;
    return {
      networks: row.networks,
      attested: row.attested,
      capped: this.ctx.storage.kv.get<number>('capped') ?? 0,
      largest: row.largest ?? 0,
    };
  }

  /** The caller has recorded the release (D1): the stored copy goes; the count stays. Idempotent. */
  async ack(): Promise<void> {
    this.ctx.storage.kv.delete('release');
  }

  /**
   * How many devices contributed and a digest of the raw sums (never the sums themselves); after the
   * release, how many had. A step aggregate that released increments counts every device it took
   * (the console's progress) and says how many are not released yet (`unreleased`, what the next
   * increment would hold), how many increments were released and which one awaits its ack (with a
   * digest of its noised sums).
   */
  async status(): Promise<AggregateStatus> {
    const kv = this.ctx.storage.kv;
    if (kv.get<boolean>('closed')) return { devices: kv.get<number>('closedDevices') ?? 0, digest: null, closed: true };
    const agg = kv.get<SketchAggregate>('aggregate');
    const increments = kv.get<number>('increments');
    const pending = kv.get<IncrementRelease>('pending');
    const unreleased = agg?.devices ?? 0;
    return {
      devices: unreleased + (kv.get<number>('releasedDevices') ?? 0),
      digest: agg ? await sha256Hex(utf8(JSON.stringify(agg))) : null,
      closed: false,
      ...(increments ? { unreleased, increments } : {}),
      // The stored increment's noised sums, as a digest: what its recording must equal (no fresh noise).
      ...(pending?.index
        ? { pending: pending.index, pendingDigest: await sha256Hex(utf8(JSON.stringify(pending.released))) }
        : {}),
    };
  }
}
