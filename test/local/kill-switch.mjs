/**
 * A preload (`NODE_OPTIONS=--import`) for the kill-recovery test: kills its own process with
 * SIGKILL at a chosen file operation, as `kill -9` would at that instant. It lives in the test
 * tree so that no code path of the runner itself carries a hook.
 *
 * KILL_SWITCH="<open|rename>:<path suffix>:<n>": after the n-th `fs.open` of a path (the file is
 * created, nothing written), or the n-th finished rename onto a path, that ends with the suffix.
 * KILL_SWITCH_MARK: a file written just before the kill, so the test knows it happened.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const [operation, suffix, nth] = (process.env.KILL_SWITCH ?? '').split(':');
let seen = 0;

/** True on the n-th matching call: the caller then kills the process. */
function isTheOne(path) {
  if (!suffix || !String(path).endsWith(suffix)) return false;
  seen += 1;
  return seen === Number(nth);
}

function kill() {
  if (process.env.KILL_SWITCH_MARK) fs.writeFileSync(process.env.KILL_SWITCH_MARK, process.env.KILL_SWITCH ?? '');
  process.kill(process.pid, 'SIGKILL');
}

if (operation === 'open') {
  const open = fs.open;
  fs.open = function killingOpen(path, ...rest) {
    const callback = rest.pop();
    return open.call(fs, path, ...rest, (error, fd) => (!error && isTheOne(path) ? kill() : callback(error, fd)));
  };
}
if (operation === 'rename') {
  const rename = fs.promises.rename;
  fs.promises.rename = async function killingRename(from, to) {
    await rename.call(fs.promises, from, to);
    if (isTheOne(to)) kill();
  };
}
// `import { rename } from 'node:fs/promises'` in a module loaded later sees the patched function
syncBuiltinESMExports();
