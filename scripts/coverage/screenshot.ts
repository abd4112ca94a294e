/**
 * Renders a coverage page to a PNG with headless Chromium (Debian's `chromium` package), to look
 * at the page as a browser draws it. A development aid, not part of `npm test`:
 *
 *   node --import tsx scripts/coverage/screenshot.ts .local/coverage.html [out.png] [--size 1400,900]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome'];

function browser(): string {
  for (const name of BROWSERS) {
    try {
      execFileSync('which', [name], { stdio: 'ignore' });
      return name;
    } catch {
      // not installed under this name
    }
  }
  throw new Error(`no headless browser found (tried ${BROWSERS.join(', ')}): apt-get install chromium`);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '1400,900' } },
});
const [page, png = 'coverage.png'] = positionals;
if (!page || !existsSync(page) || !/^\d+,\d+$/.test(values.size)) {
  console.error('usage: node --import tsx scripts/coverage/screenshot.ts <page.html> [out.png] [--size W,H]');
  process.exit(2);
}
execFileSync(
  browser(),
  [
    '--headless',
    // Chromium refuses to run as root with its sandbox; the page is our own file
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    `--window-size=${values.size}`,
    `--screenshot=${resolve(png)}`,
    pathToFileURL(resolve(page)).href,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
console.log(`wrote ${resolve(png)}`);
