// `npm run local`: installs the dependencies when missing, builds, then runs the whole stack (tools/dev/run-local.ts).
// Plain JavaScript so it runs before anything is built. npm does not pass its SIGTERM on through the shell it runs
// scripts in, so this process watches who started it: when that parent goes away, the stack stops too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const parent = process.ppid;
let step = null;
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  step?.kill('SIGTERM');
  process.exit(143);
}, 500);

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    step = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
    step.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

try {
  if (!existsSync(join(root, 'node_modules'))) await run('npm', ['install', '--no-audit', '--no-fund']);
  await run('npm', ['run', 'build', '--silent']);
  await run('npm', ['run', 'build:tools', '--silent']);
} catch (err) {
  process.stderr.write(`[local] ${err.message}\n`);
  process.exit(1);
}
clearInterval(watch);
process.env.LOCAL_PARENT_PID = String(parent);
await import(join(root, 'dist-tools', 'dev', 'run-local.js'));
