import {
  ApiErrorBody,
  Baseline,
  Envelope,
  Manifest,
  Root,
  RuntimeRequirements,
  Ticket,
  TicketBundle,
  UploadRequest,
} from '@modelfleet/protocol';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classicDefinitions, toClassic } from './classic-schemas.ts';

const device = { Envelope, Root, Ticket, TicketBundle, Manifest, Baseline, ApiErrorBody };

describe('toClassic', () => {
  it.each(Object.entries(device))('%s: a classic schema with the same JSON Schema, in and out', (_, mini) => {
    const classic = toClassic(mini);
    expect(mini).not.toHaveProperty('meta'); // why the OpenAPI generator needs this at all
    expect(classic).toBeInstanceOf(z.ZodType);
    expect(typeof classic.meta).toBe('function');
    for (const io of ['input', 'output'] as const)
      expect(z.toJSONSchema(classic, { io })).toEqual(z.toJSONSchema(mini, { io }));
  });

  it('rebuilds a classic schema that holds mini ones, and leaves an all-classic one as it is', () => {
    expect(toClassic(UploadRequest)).not.toBe(UploadRequest); // its io, baseline and chunks are mini
    const plain = z.object({ a: z.string() });
    expect(toClassic(plain)).toBe(plain);
    expect(toClassic(Envelope)).toBe(toClassic(Envelope)); // shared parts stay shared
  });

  it('parses as the mini schema does, with a fresh default per parse', () => {
    const runtime = toClassic(RuntimeRequirements);
    const a = runtime.parse({});
    a.backends.push('cpu');
    expect(runtime.parse({})).toEqual({ backends: ['webgpu', 'wasm', 'cpu'] }); // not the pushed-to array
    expect(toClassic(Envelope).safeParse({ payloadType: 'x', payload: '!', signatures: [] }).success).toBe(false);
  });

  it('classicDefinitions replaces route configs without touching the ones validators hold', () => {
    const route = {
      method: 'get',
      path: '/x',
      request: { query: z.object({ e: Envelope }) },
      responses: { 200: { description: 'ok', content: { 'application/json': { schema: Root } } } },
    };
    const registry = { definitions: [{ type: 'route' as const, route }] };
    classicDefinitions(registry);
    const rebuilt = registry.definitions[0]!.route as typeof route;
    expect(rebuilt.request.query).toBeInstanceOf(z.ZodObject);
    expect(rebuilt).not.toBe(route);
    expect(route.responses[200].content['application/json'].schema).toBe(Root);
    expect(rebuilt.responses[200].content['application/json'].schema).toBe(toClassic(Root));
    expect(rebuilt.request.query.shape.e).toBe(toClassic(Envelope));
  });
});
