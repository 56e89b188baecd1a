/**
 * The published package, as a user gets it: `npm pack` makes a tarball that installs into an
 * empty directory (dependencies from the registry, or npm's cache when it has them), and there
 * `npx pitwall demo --duration 5s` runs the live demo from the compiled code alone, the CLI
 * reports the package's version, and `import 'pitwall'` gives the engine API with its types.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('npm pack → install into an empty directory', () => {
  it('installs and runs `npx pitwall demo --duration 5s` from the tarball', () => {
    const work = mkdtempSync(join(tmpdir(), 'pw-pack-'));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], process.cwd())) as { filename: string; files: { path: string }[] }[];
    const files = (packed[0]?.files ?? []).map((f) => f.path);
    // The compiled code, its types and the sample definitions ship; the TypeScript loader's entry does not.
    for (const f of ['bin/pitwall.js', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'dist/archive/segment-worker.js', 'catalog/orders.yaml', 'queries/restaurant_orders_5m.sql']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.mjs') || f.endsWith('.tsbuildinfo') || f.startsWith('test/'))).toEqual([]);

    const app = join(work, 'app');
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pitwall-user', private: true, type: 'module' }));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0]?.filename as string)], app);
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'pitwall', 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false); // no TypeScript loader at run time

    const npx = (args: string[]): ReturnType<typeof spawnSync> => spawnSync('npx', ['--no-install', 'pitwall', ...args], { cwd: app, encoding: 'utf8', timeout: 150_000 });
    expect(String(npx(['--version']).stdout).trim()).toBe(pkg.version);
    const demo = npx(['demo', '--duration', '5s', '--port', '0']);
    expect(demo.status, String(demo.stderr)).toBe(0);
    expect(String(demo.stdout)).toMatch(/11 metrics live at http:\/\/127\.0\.0\.1:\d+\//);
    expect(String(demo.stdout)).toMatch(/stopped\. [1-9]\d* events archived/);
    const runs = readdirSync(join(app, '.pitwall', 'demo'));
    expect(runs).toHaveLength(1);
    expect(readdirSync(join(app, '.pitwall', 'demo', runs[0] as string, 'archive'))).toContain('_manifest.ndjson');

    // The engine API, typed: a TypeScript consumer compiles against the shipped declarations.
    writeFileSync(join(app, 'use.mjs'), "import { loadCatalog, loadQueries, compileDuckDb, Engine } from 'pitwall';\n"
      + "const c = loadCatalog('node_modules/pitwall/catalog');\nconst p = loadQueries('node_modules/pitwall/queries', c);\n"
      + "console.log(p.length, typeof Engine, compileDuckDb(p[0]).sql.startsWith('WITH') || compileDuckDb(p[0]).sql.length > 0);\n");
    expect(execFileSync(process.execPath, ['use.mjs'], { cwd: app, encoding: 'utf8' }).trim()).toBe('11 function true');
    writeFileSync(join(app, 'use.ts'), "import { loadCatalog, loadQueries, compileDuckDb, Engine, replay, readNdjson, KafkaSource, type MetricPlan, type EngineOptions } from 'pitwall';\n"
      + "const plans: MetricPlan[] = loadQueries('q', loadCatalog('c'));\nconst opts: EngineOptions = { maxGroups: 10 };\n"
      + "export const used = [plans.map((p) => compileDuckDb(p).sql), opts, Engine, replay, readNdjson, KafkaSource];\n");
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(process.cwd(), 'node_modules', '@types')] },
      files: ['use.ts'],
    }));
    const tsc = spawnSync(process.execPath, [join(process.cwd(), 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  });
});
