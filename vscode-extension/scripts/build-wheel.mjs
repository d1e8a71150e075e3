// Builds the server wheel shipped inside the .vsix: `pip wheel --no-deps` of the repository's
// Python package, written to vscode-extension/server/. The sources are copied to a temporary
// folder first so the build leaves nothing (build/, *.egg-info) in the repository.
//
// Interpreter: $CODESEARCH_PYTHON, else <repo>/.venv/bin/python, else /tmp/venv0/bin/python,
// else python3. It needs pip; pip fetches setuptools and wheel for the isolated build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const extDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const repo = path.dirname(extDir);
const outDir = path.join(extDir, 'server');

function pickPython() {
  const candidates = [process.env.CODESEARCH_PYTHON, path.join(repo, '.venv/bin/python'), '/tmp/venv0/bin/python'];
  for (const c of candidates) {
    if (c && fs.existsSync(c)) {
      return c;
    }
  }
  return process.platform === 'win32' ? 'python' : 'python3';
}

function copySources(dest) {
  for (const name of ['pyproject.toml', 'README.md', 'LICENSE', 'setup.cfg', 'MANIFEST.in']) {
    const src = path.join(repo, name);
    if (fs.existsSync(src)) {
      fs.copyFileSync(src, path.join(dest, name));
    }
  }
  fs.cpSync(path.join(repo, 'server'), path.join(dest, 'server'), {
    recursive: true,
    filter: (src) => {
      const base = path.basename(src);
      return base !== '__pycache__' && !base.endsWith('.egg-info') && !base.endsWith('.pyc');
    },
  });
  // pyproject names README.md; an empty one keeps the build going if it is missing.
  if (!fs.existsSync(path.join(dest, 'README.md'))) {
    fs.writeFileSync(path.join(dest, 'README.md'), '# codesearch\n');
  }
}

const python = pickPython();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codesearch-wheel-'));
try {
  copySources(tmp);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  console.log(`building the server wheel with ${python}`);
  const res = spawnSync(
    python,
    ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '--quiet', tmp, '-w', outDir],
    { stdio: 'inherit' },
  );
  if (res.error || res.status !== 0) {
    console.error(`pip wheel failed (${res.error ? res.error.message : `exit ${res.status}`})`);
    process.exit(1);
  }
  const wheels = fs.readdirSync(outDir).filter((n) => /^codesearch-.+\.whl$/.test(n));
  if (wheels.length !== 1) {
    console.error(`expected one codesearch wheel in ${outDir}, found: ${wheels.join(', ') || 'none'}`);
    process.exit(1);
  }
  console.log(`server/${wheels[0]} (${(fs.statSync(path.join(outDir, wheels[0])).size / 1024).toFixed(0)} KiB)`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
