import { describe, expect, it } from 'vitest';
import { formatConnectLog, parseConnectLog } from '../../src/connect/index.js';

describe('Connect log lines', () => {
  it('turns a JSON log line into a connect: line with its fields', () => {
    const line = '{"@service":"benthos","label":"","level":"info","msg":"Output type redpanda is now active","path":"root.output.switch.cases.0.output","time":"2026-01-02T03:04:05Z"}';
    const entry = parseConnectLog(line);
    expect(entry).toEqual({ time: '2026-01-02T03:04:05Z', level: 'info', msg: 'Output type redpanda is now active', fields: { label: '', path: 'root.output.switch.cases.0.output' } });
    expect(formatConnectLog(entry)).toBe('2026-01-02T03:04:05Z connect: info Output type redpanda is now active path=root.output.switch.cases.0.output');
  });

  it('quotes values with spaces and keeps non-JSON lines verbatim', () => {
    const entry = parseConnectLog('{"level":"error","msg":"failed","error":"dial tcp: connection refused","time":"t"}');
    expect(formatConnectLog(entry)).toBe('t connect: error failed error="dial tcp: connection refused"');
    expect(formatConnectLog(parseConnectLog('panic: boom'), () => 'now')).toBe('now connect: info panic: boom');
  });
});
