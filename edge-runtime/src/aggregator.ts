/**
 * @module aggregator
 * The Durable Object that adds device sketches into one (model, version, window, cohort)
 * aggregate. Each upload is validated at the edge before it gets here; the object rejects a
 * second upload from the same device in the window (replay), adds the vector and forgets it.
 * The seen-set and the aggregate change in one storage transaction, so a failure leaves both
 * as they were.
 */
import { DurableObject } from 'cloudflare:workers';
import { type SketchAggregate, type SketchLayout, type SketchUpload, addUpload, emptyAggregate, sha256Hex, utf8 } from '@modelfleet/protocol';

export interface AddResult {
  accepted: boolean;
  devices: number;
}

export class SketchAggregator extends DurableObject {
  private readonly sql = this.ctx.storage.sql;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql.exec('CREATE TABLE IF NOT EXISTS seen (device TEXT PRIMARY KEY)');
  }

  /** Adds one validated upload; `device` is a salted hash of the device key, never the key. */
  async add(layout: SketchLayout, device: string, upload: SketchUpload): Promise<AddResult> {
    return this.ctx.storage.transactionSync(() => {
      const agg = (this.ctx.storage.kv.get<SketchAggregate>('aggregate')) ?? emptyAggregate(layout, upload.window);
      if (this.sql.exec('SELECT 1 FROM seen WHERE device = ?', device).toArray().length > 0) {
        return { accepted: false, devices: agg.devices };
      }
      addUpload(agg, upload);
      this.sql.exec('INSERT INTO seen (device) VALUES (?)', device);
      this.ctx.storage.kv.put('aggregate', agg);
      return { accepted: true, devices: agg.devices };
    });
  }

  /** How many devices contributed and a digest of the raw sums (never the sums themselves). */
  async status(): Promise<{ devices: number; digest: string | null }> {
    const agg = this.ctx.storage.kv.get<SketchAggregate>('aggregate');
    return { devices: agg?.devices ?? 0, digest: agg ? await sha256Hex(utf8(JSON.stringify(agg))) : null };
  }
}
