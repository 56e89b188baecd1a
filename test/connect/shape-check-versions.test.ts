/** The edge shape check of a versioned stream leaves required fields a version moves to pitwall's own validation. */
import { describe, expect, it } from 'vitest';
import { shapeCheckMapping } from '../../src/connect/index.js';
import { catalogOf } from '../support/cold-harness.js';

const YAML = (versions: string): string => `
name: orders
event_id: eventId
event_time: eventTime
fields:
  eventId: { type: string, required: true }
  eventTime: { type: timestamp, required: true }
  eventVersion: { type: int }
  data.prepSeconds: { type: double, required: true }
  data.total: { type: double, required: true }
${versions}`;

const missingLine = (yaml: string): string | undefined => {
  const stream = catalogOf(yaml).streams.get('orders');
  if (!stream) throw new Error('no stream');
  return shapeCheckMapping(stream).split('\n').find((l) => l.startsWith('let missing'));
};

describe('shape check with catalog versions', () => {
  it('checks at the edge only the required fields no version moves', () => {
    expect(missingLine(YAML(''))).toBe('let missing = ["eventId", "eventTime", "data.prepSeconds", "data.total"].filter(p -> $doc.get(p) == null)');
    expect(missingLine(YAML('versions:\n  1: {}\n  2:\n    data.prepSeconds: data.prep.seconds\n'))).toBe('let missing = ["eventId", "eventTime", "data.total"].filter(p -> $doc.get(p) == null)');
  });
});
