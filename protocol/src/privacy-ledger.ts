/**
 * @module privacy-ledger
 * `GET /v1/models/{model}/privacy`: the zCDP ledger of a model's releases — the year's total, and
 * the split by channel (`window`: a window's drift and health close; `step-health` and
 * `step-sketches`: a rollout step's releases; `step`: step releases recorded before channels
 * were kept), today and over the year.
 */
import { z } from 'zod';

export const ChannelSpend = z.object({
  channel: z.string(),
  releases: z.number(),
  rho: z.number(),
  epsilon: z.number(),
});
export type ChannelSpend = z.infer<typeof ChannelSpend>;

export const PrivacyLedgerView = z.object({
  model: z.string(),
  delta: z.number(),
  releasesLastYear: z.number(),
  rhoLastYear: z.number(),
  epsilonLastYear: z.number(),
  channels: z.object({ today: z.array(ChannelSpend), lastYear: z.array(ChannelSpend) }),
});
export type PrivacyLedgerView = z.infer<typeof PrivacyLedgerView>;
