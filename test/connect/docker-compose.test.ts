/**
 * docker-compose.yml stays true to the code: pinned images, only real pitwall flags and
 * environment variables, the Connect config it mounts is exactly what `pitwall connect --print`
 * generates from the sample catalog, and its topic list is the catalog's.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCatalog } from '../../src/catalog/index.js';
import { buildProgram } from '../../src/cli/main.js';
import { generateConnectConfig } from '../../src/connect/index.js';
import { catalogTopics } from '../../src/sources/topics.js';

interface Service {
  image?: string;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string> | string[];
  volumes?: string[];
  ports?: string[];
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const text = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(' ') : v ?? '');

/** Every `pitwall <subcommand> --flag …` in a shell command line. */
function pitwallInvocations(cmd: string): { sub: string; flags: string[] }[] {
  const tokens = cmd.split(/\s+/).filter(Boolean);
  const out: { sub: string; flags: string[] }[] = [];
  tokens.forEach((t, i) => {
    if (t !== 'pitwall' && !t.endsWith('/pitwall') && !t.endsWith('bin/pitwall.js')) return;
    if (tokens[i - 1]?.startsWith('--')) return; // a flag's value (`--group pitwall`), not a command
    const flags: string[] = [];
    for (let j = i + 2; j < tokens.length && !['&&', '||', ';', '|'].includes(tokens[j] as string); j++) {
      const tok = tokens[j] as string;
      if (tok.startsWith('--')) flags.push(tok.split('=')[0] as string);
    }
    out.push({ sub: tokens[i + 1] ?? '', flags });
  });
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The environment variables pitwall reads (`process.env.PITWALL_…` / `env.PITWALL_…` in src). */
const readEnv = new Set(sources('src').flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/env\.(PITWALL_[A-Z_]+)/g)].map((m) => m[1] as string)));

describe('docker-compose.yml', () => {
  it('pins every image to a tag other than latest', () => {
    expect(services.length).toBeGreaterThanOrEqual(4);
    for (const [name, s] of services) {
      expect(s.image, name).toBeDefined();
      const tag = /:([^/:]+)$/.exec(s.image as string)?.[1];
      expect(tag, `${name}: ${s.image}`).toBeDefined();
      expect(tag, `${name}: ${s.image}`).not.toBe('latest');
    }
  });

  it('runs pitwall only with subcommands and flags the CLI has', () => {
    const program = buildProgram();
    const invocations = services.flatMap(([name, s]) => pitwallInvocations(`${text(s.entrypoint)} ${text(s.command)}`).map((inv) => ({ name, ...inv })));
    expect(invocations.length).toBeGreaterThan(0);
    for (const inv of invocations) {
      const sub = program.commands.find((c: Command) => c.name() === inv.sub);
      expect(sub, `${inv.name}: pitwall ${inv.sub}`).toBeDefined();
      const known = new Set((sub as Command).options.map((o) => o.long));
      for (const f of inv.flags) expect(known.has(f), `${inv.name}: pitwall ${inv.sub} ${f}`).toBe(true);
    }
  });

  it('scales the engine on one host: one group, one state directory, distinct pids, an archive and a port per replica', () => {
    const engine = compose.services.pitwall as Service & { pid?: string };
    const cmd = text(engine.command);
    expect(cmd).toContain('--group pitwall');
    expect(cmd).toMatch(/--state-dir \.pitwall\/compose\/state /);
    expect(cmd).toContain('--archive .pitwall/compose/archive/$$(hostname)');
    expect(engine.pid).toBe('host');
    expect(engine.ports).toEqual(['127.0.0.1:8090-8093:8090']);
    // A restarting replica must not run npm ci (which empties node_modules) under the others.
    expect(cmd).toMatch(/flock \S+ sh -c 'cmp -s package-lock.json \S+ \|\| \{ npm ci/);
  });

  it('sets only environment variables pitwall reads on pitwall services', () => {
    expect(readEnv.has('PITWALL_BROKERS')).toBe(true);
    for (const [name, s] of services) {
      if (pitwallInvocations(text(s.command)).length === 0) continue;
      const keys = Array.isArray(s.environment) ? s.environment.map((e) => e.split('=')[0] as string) : Object.keys(s.environment ?? {});
      expect(keys.length, name).toBeGreaterThan(0);
      for (const k of keys) expect(readEnv.has(k), `${name}: ${k}`).toBe(true);
    }
  });

  it('mounts the Connect config pitwall generates from the sample catalog', () => {
    const [name, connect] = services.find(([, s]) => s.image?.includes('redpandadata/connect:')) ?? [];
    expect(name).toBeDefined();
    const mount = (connect?.volumes ?? []).map((v) => v.split(':')).find(([host]) => host?.endsWith('.yaml'));
    expect(mount, 'a mounted .yaml').toBeDefined();
    const [host, target] = mount as [string, string];
    expect(text(connect?.command)).toContain(target);
    expect(connect?.ports?.some((p) => p.endsWith(':4195:4195') || p === '4195:4195')).toBe(true);
    const expected = generateConnectConfig(loadCatalog('catalog'), { brokers: ['redpanda:9092'], httpAddress: '0.0.0.0:4195' });
    expect(readFileSync(host, 'utf8'), 'regenerate: npx pitwall connect --print --brokers redpanda:9092 --http 0.0.0.0:4195 > docker/connect.yaml').toBe(expected);
  });

  it('creates exactly the catalog\'s topics with their partition counts', () => {
    const cmd = text(compose.services.topics?.command);
    const created = new Map<string, number>();
    for (const m of cmd.matchAll(/rpk topic create ([^;&|]+)/g)) {
      const args = (m[1] as string).trim().split(/\s+/);
      const p = Number(args[args.indexOf('-p') + 1]);
      for (const t of args.filter((a, i) => !a.startsWith('-') && !args[i - 1]?.startsWith('-'))) created.set(t, p);
    }
    const expected = new Map(catalogTopics(loadCatalog('catalog')).map((s) => [s.topic, s.partitions]));
    expect(Object.fromEntries(created)).toEqual(Object.fromEntries(expected));
  });
});
