/** `pitwall dlq inspect|replay <stream>`: the broker's quarantine lane, grouped and repaired. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PitwallCommand } from './pitwall-command.js';
import type { Kafka } from 'kafkajs';
import type { Catalog, StreamDef } from '../catalog/index.js';
import { ExecutionError } from '../errors.js';
import type { FixFunction } from '../sources/dlq-tools.js';
import { brokersFrom } from './brokers.js';
import { checkCatalogDir, checkInputFile } from './path-options.js';

function streamOf(catalog: Catalog, name: string): StreamDef {
  const s = catalog.streams.get(name);
  if (!s || s.kind !== 'stream') throw new ExecutionError('PW_UNKNOWN_STREAM', `unknown stream '${name}'; catalog streams: ${[...catalog.streams.values()].filter((x) => x.kind === 'stream').map((x) => x.name).join(', ')}`);
  return s;
}

/** The stream's catalog entry and a client for its brokers (kafkajs and the catalog loaded lazily). */
async function open(catalogDir: string, name: string, brokers: string | undefined): Promise<{ stream: StreamDef; kafka: Kafka }> {
  checkCatalogDir(catalogDir);
  const [{ Kafka, logLevel }, { loadCatalog }] = await Promise.all([import('kafkajs'), import('../catalog/index.js')]);
  const stream = streamOf(loadCatalog(catalogDir), name);
  return { stream, kafka: new Kafka({ clientId: 'pitwall-dlq', brokers: brokersFrom(brokers), logLevel: logLevel.ERROR }) };
}

async function loadFix(path: string | undefined): Promise<FixFunction> {
  if (!path) return (raw) => raw;
  checkInputFile('--fix', path, 'PW_DLQ_FIX', 'pass an ES module whose default export repairs a payload');
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  if (typeof mod.default !== 'function') throw new ExecutionError('PW_DLQ_FIX', `--fix ${path} must export a default function (raw: string, message) => string | null`);
  return mod.default as FixFunction;
}

/** Registers `dlq inspect` and `dlq replay`. */
export function registerDlqCommand(program: PitwallCommand): void {
  const dlq = program.command('dlq').description("inspect or repair a stream's quarantine lane (<topic>.dlq)");
  dlq.command('inspect')
    .argument('<stream>', 'catalog stream')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--brokers <list>', 'Kafka brokers (default: $PITWALL_BROKERS)')
    .option('--format <format>', 'table or json', 'table')
    .action(async (name: string, opts: { catalog: string; brokers?: string; format: string }) => {
      if (opts.format !== 'table' && opts.format !== 'json') throw new ExecutionError('PW_BAD_OPTION', `--format '${opts.format}': use table or json`);
      const { stream, kafka } = await open(opts.catalog, name, opts.brokers);
      const { groupByReason, readDlq } = await import('../sources/dlq-tools.js');
      const messages = await readDlq(kafka, stream);
      const groups = groupByReason(messages);
      if (opts.format === 'json') { process.stdout.write(`${JSON.stringify({ stream: name, total: messages.length, groups }, null, 2)}\n`); return; }
      process.stdout.write(`${stream.topic}.dlq: ${messages.length} quarantined payload(s)\n`);
      for (const g of groups) process.stdout.write(`${String(g.count).padStart(8)}  ${g.code}  ${g.reason}\n          e.g. ${g.sample}\n`);
    });
  dlq.command('replay')
    .argument('<stream>', 'catalog stream')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--brokers <list>', 'Kafka brokers (default: $PITWALL_BROKERS)')
    .option('--fix <script>', 'ES module whose default export repairs a payload: (raw, message) => string | null')
    .action(async (name: string, opts: { catalog: string; brokers?: string; fix?: string }) => {
      const fix = await loadFix(opts.fix);
      const { stream, kafka } = await open(opts.catalog, name, opts.brokers);
      const { readDlq, replayDlq } = await import('../sources/dlq-tools.js');
      const messages = await readDlq(kafka, stream);
      const r = await replayDlq(kafka, stream, messages, fix);
      process.stdout.write(`${messages.length} read from ${stream.topic}.dlq: ${r.published} re-published to ${stream.topic}, ${r.skipped} left by the fix, ${r.stillInvalid} still invalid (not published)\n`);
    });
}
