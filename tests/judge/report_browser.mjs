// Opens report pages in headless Chromium (Debian's, never a downloaded one) and prints what it
// saw as one JSON object: for every page its console errors and warnings, uncaught exceptions,
// requests other than the page itself (refused), dialogs, whether it finished drawing, each
// chart's size and SVG mark items per type, <img> elements, and the hits of a search.
//   node report_browser.mjs NODE_MODULES CHROMIUM OUT_DIR QUERY PAGE.html...
// A full-page screenshot of each page in light and dark mode is written to OUT_DIR.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, chromiumPath, outDir, query, ...pages] = process.argv.slice(2);
const { chromium } = await import(pathToFileURL(path.join(modules, 'playwright-core', 'index.mjs')).href);

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

async function inspect(file) {
  const url = pathToFileURL(path.resolve(file)).href;
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const seen = { console: [], exceptions: [], requests: [], dialogs: [] };
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.console.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => seen.exceptions.push(String(e)));
  page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss(); });
  await context.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    seen.requests.push(route.request().url());
    return route.abort();
  });
  await page.goto(url);
  let ready = true;
  try {
    await page.waitForSelector('html[data-ready="true"]', { timeout: 30000 });
  } catch {
    ready = false;
  }
  const charts = await page.evaluate(() => {
    const data = JSON.parse(document.getElementById('report-data').textContent);
    return data.charts.map((c) => {
      const svg = document.querySelector(`#${CSS.escape(c.id)} svg`);
      const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      const marks = {};
      document.querySelectorAll(`#${CSS.escape(c.id)} g.role-mark`).forEach((g) => {
        const type = [...g.classList].find((k) => k.startsWith('mark-')).slice(5);
        marks[type] = (marks[type] || 0) + g.childElementCount;
      });
      return { id: c.id, expected: c.marks, width: box.width, height: box.height, marks };
    });
  });
  const name = path.basename(file, '.html');
  await page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(outDir, `${name}.dark.png`), fullPage: true });
  await page.fill('#search', query);
  const search = await page.textContent('#search-count');
  const images = await page.evaluate(() => document.querySelectorAll('img').length);
  const marked = await page.evaluate(() => document.querySelectorAll('#examples-root mark').length);
  await context.close();
  return { file, ready, ...seen, charts, search, images, marked };
}

const started = Date.now();
const results = [];
for (const file of pages) results.push(await inspect(file));
await browser.close();
console.log(JSON.stringify({ pages: results, milliseconds: Date.now() - started }));
