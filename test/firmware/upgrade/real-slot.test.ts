// The whole path with the real firmware: the compiled dist/ (with board/ and
// package.json at a bumped version) bundled by the script, installed by the
// installer, and the installed slot's own `dvr --version` run from it.
import t from 'tap';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../../firmware/core/paths.js';
import { chunksOf, makeUpgrader, newKey, scriptBundle, tempDir } from './helpers.js';

const run = promisify(execFile);
const repo = packageRoot();
const cli = join(repo, 'dist', 'firmware', 'cli', 'dvr.js');

if (!existsSync(cli)) t.plan(0, 'dist/ is not built: run npx tsc -p tsconfig.json');
else {
  t.test('a bundle of the built firmware installs into a slot that runs as the new version', async (t) => {
    const dir = tempDir(t);
    const key = await newKey(dir);
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    const [major, minor] = pkg.version.split('.').map(Number) as [number, number];
    const next = `${major}.${minor + 1}.0`;
    const tree = join(dir, 'tree');
    cpSync(join(repo, 'dist'), join(tree, 'dist'), { recursive: true });
    cpSync(join(repo, 'board'), join(tree, 'board'), { recursive: true });
    writeFileSync(join(tree, 'package.json'), JSON.stringify({ ...pkg, version: next }, null, 2));
    const bundle = await scriptBundle({ tree, key: key.file, out: join(dir, 'firmware.bundle') });

    // The install root sits inside this checkout so the slot finds node_modules by walking up, as
    // slots under /usr/lib/dvr/slots find a shared /usr/lib/dvr/node_modules (or carry their own).
    mkdirSync(join(repo, 'var'), { recursive: true });
    const root = mkdtempSync(join(repo, 'var', 'upgrade-test-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const up = makeUpgrader(root, [key.pub], { runningVersion: pkg.version });
    const done = await up.upgrade(chunksOf(bundle));
    t.equal(done.version, next);

    const slotCli = join(root, 'root', 'current', 'dist', 'firmware', 'cli', 'dvr.js');
    const { stdout } = await run(process.execPath, [slotCli, '--version'], { timeout: 60_000 });
    t.equal(stdout.trim(), next, `the installed slot runs and says it is ${next}`);
    const { stdout: usage } = await run(process.execPath, [slotCli, 'help'], { timeout: 60_000 });
    t.match(usage, /upgrade rollback/, 'it is the whole CLI');
  });
}
