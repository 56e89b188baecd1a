/**
 * `pitwall connect`: ingestion through Redpanda Connect. Generates one Connect config from the
 * catalog (an HTTP endpoint per stream, optionally a file or stdin load), creates the stream and
 * DLQ topics, then runs Connect under a supervisor until Ctrl-C. `--print` only prints the config.
 */
import { resolve } from 'node:path';
import type { PitwallCommand } from './pitwall-command.js';
import { ExecutionError } from '../errors.js';
import { brokersFrom, splitBrokers } from './brokers.js';
import { checkCatalogDir, checkInputFile, checkOutputDir } from './path-options.js';

interface ConnectFlags { catalog: string; brokers?: string; http: string; print?: boolean; file?: string; stdin?: string; stateDir?: string }

function parseFileSpec(spec: string): { stream: string; path: string } {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new ExecutionError('PW_INPUT_SPEC', `--file '${spec}' must be STREAM=FILE, e.g. --file orders=events.ndjson`);
  const path = resolve(spec.slice(eq + 1));
  checkInputFile('--file', path, 'PW_INPUT_MISSING', `fix the FILE of --file ${spec}`);
  return { stream: spec.slice(0, eq), path };
}

/**
 * Resolves on the first SIGINT or SIGTERM; call `dispose` once stopped. The listeners stay
 * registered until then on purpose: execa's cleanup (signal-exit) re-raises a signal it sees
 * with no other listener left, which would kill pitwall before Connect is stopped in order.
 */
function stopSignal(): { received: Promise<string>; dispose: () => void } {
  let receive: (sig: string) => void = () => undefined;
  const received = new Promise<string>((r) => { receive = r; });
  const onInt = (): void => receive('SIGINT');
  const onTerm = (): void => receive('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return { received, dispose: () => { process.off('SIGINT', onInt); process.off('SIGTERM', onTerm); } };
}

/** Registers `connect`. */
export function registerConnectCommand(program: PitwallCommand): void {
  program.command('connect')
    .description('ingest events over HTTP (and from a file or stdin) through Redpanda Connect into the stream topics, bad payloads to <topic>.dlq')
    .option('--catalog <dir>', 'catalog directory', 'catalog')
    .option('--brokers <list>', 'Kafka bootstrap brokers (default: $PITWALL_BROKERS); with --print, the default written after ${PITWALL_BROKERS:…}')
    .option('--http <host:port>', 'address of Connect\'s HTTP server (ingest endpoints, /ready, /metrics)', '127.0.0.1:4195')
    .option('--print', 'print the generated Connect config (YAML) and exit')
    .option('--file <stream=file>', 'also load an NDJSON file into a stream, once')
    .option('--stdin <stream>', 'also read NDJSON lines from stdin into a stream')
    .option('--state-dir <dir>', 'where the generated connect.yaml is written (default: a temporary directory)')
    .action(async (flags: ConnectFlags) => {
      const [{ loadCatalog }, { ConnectSupervisor, findConnectBinary, generateConnectConfig, ingestUrl, readyUrl, BROKERS_ENV }] = await Promise.all([
        import('../catalog/index.js'), import('../connect/index.js'),
      ]);
      checkCatalogDir(flags.catalog);
      const catalog = loadCatalog(flags.catalog);
      if (flags.stateDir !== undefined && !flags.print) checkOutputDir('--state-dir', flags.stateDir);
      const inputs = { httpAddress: flags.http, ...(flags.file ? { file: parseFileSpec(flags.file) } : {}), ...(flags.stdin ? { stdinStream: flags.stdin } : {}) };
      if (flags.print) {
        // No broker needed: the file reads ${PITWALL_BROKERS} where it runs, --brokers as its default.
        const defaults = flags.brokers === undefined ? undefined : splitBrokers(flags.brokers);
        process.stdout.write(generateConnectConfig(catalog, { ...inputs, ...(defaults?.length ? { brokers: defaults } : {}) }));
        return;
      }
      const brokers = brokersFrom(flags.brokers);
      const yaml = generateConnectConfig(catalog, { ...inputs, brokers });
      const [{ Kafka, logLevel }, { catalogTopics, ensureTopics }] = await Promise.all([import('kafkajs'), import('../sources/topics.js')]);
      const binary = findConnectBinary();
      const log = (line: string): void => { process.stderr.write(`${line}\n`); };
      const say = (msg: string): void => log(`${new Date().toISOString()} pitwall: ${msg}`);
      const created = await ensureTopics(new Kafka({ clientId: 'pitwall-connect', brokers, logLevel: logLevel.ERROR }), catalogTopics(catalog));
      if (created.length) say(`created topics ${created.join(', ')}`);
      const supervisor = new ConnectSupervisor({
        binary, configYaml: yaml, httpAddress: flags.http, log,
        // The brokers this command was given win over a PITWALL_BROKERS inherited from the shell.
        env: { [BROKERS_ENV]: brokers.join(',') },
        ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
        ...(flags.stdin ? { stdin: 'inherit' as const } : {}),
      });
      const signal = stopSignal();
      try {
        await supervisor.start();
        const streams = [...catalog.streams.values()].filter((s) => s.kind === 'stream');
        process.stdout.write(`pitwall connect: ingesting into ${brokers.join(',')} (Ctrl-C to stop)\n`);
        for (const s of streams) process.stdout.write(`  POST ${ingestUrl(flags.http, s.name)}  → ${s.topic} (bad payloads → ${s.topic}.dlq)\n`);
        process.stdout.write(`  ready: ${readyUrl(flags.http)}\n`);
        say(`stopping Connect on ${await signal.received}`);
        await supervisor.stop();
        say(`stopped (${supervisor.restarts} restart(s) while running)`);
      } finally {
        signal.dispose();
      }
    });
}
