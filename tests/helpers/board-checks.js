// Checks of the wallboard's screens in a Playwright page.
//
//   await overflows(page)       // [] or descriptions of tile descendants that overflow
//   await axeViolations(page)   // [] or axe-core's violations, summarized
//
// axe-core (the pinned devDependency) is injected into the page under test only: the page never
// ships or loads it.
const fs = require('fs');

/**
 * Every descendant of every tile on screen: its content is no wider than its box
 * (scrollWidth <= clientWidth) and its box lies inside its tile's. Elements hidden by the page
 * (display: none) are skipped.
 */
async function overflows(page) {
  return page.evaluate(() => {
    const out = [];
    for (const tile of document.querySelectorAll('.tile')) {
      const box = tile.getBoundingClientRect();
      for (const el of tile.querySelectorAll('*')) {
        if (el.getClientRects().length === 0) continue;
        const r = el.getBoundingClientRect();
        const what = `${tile.dataset.sid} ${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${el.textContent.slice(0, 40)}"`;
        if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) out.push(`${what}: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
        if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
          out.push(
            `${what}: [${Math.round(r.left)},${Math.round(r.top)},${Math.round(r.right)},${Math.round(r.bottom)}] outside its tile [${Math.round(box.left)},${Math.round(box.top)},${Math.round(box.right)},${Math.round(box.bottom)}]`,
          );
        }
      }
    }
    return out.slice(0, 20);
  });
}

let axeSource = null;
/** Runs axe-core (WCAG 2.x A and AA, and best practices) on the page as it is now. */
async function axeViolations(page) {
  axeSource = axeSource || fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  if (result.passes.length === 0) throw new Error('axe-core checked nothing on this page');
  return result.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} — ${v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`)
        .join(' | ')}`,
  );
}

module.exports = { overflows, axeViolations };
