// The log panel's real webview bundle in headless Chromium (test/helpers/logsWebview.ts), fed
// the way the extension feeds it: hostile lines stay text and run nothing, 1 MB lines, invalid
// UTF-8 from the core's splitter to the screen, a flood of 100,000 lines in a second against the
// buffer bound, the CSP as Chromium enforces it, and the panel's features after the rendering
// became incremental. Figures (frame times) are printed, never asserted.
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { LogAggregator } from '../../src/core/logs/aggregator';
import { parseWebviewMessage, type HostMessage } from '../../src/core/logs/protocol';
import type { LogLine } from '../../src/core/logs/types';
import { HOSTILE_LINES, openLogsWebview, type LogsWebview } from '../helpers/logsWebview';
import { launchBrowser } from '../vscode/harness/browser';
import { FakeSource } from '../unit/logs/fakeSource';

const TARGET = { namespace: 'demo', deployment: 'web' };

function line(seq: number, text: string, extra: Partial<LogLine> = {}): LogLine {
  return {
    seq,
    pod: 'web-0',
    container: 'web',
    timestamp: '2026-11-28T12:00:00.000000000Z',
    level: 'other',
    kind: 'log',
    text,
    ...extra,
  };
}

function init(
  lines: LogLine[],
  maxLines = 50_000,
  pods = [{ name: 'web-0', phase: 'Running', containers: ['web'] }],
): HostMessage {
  return { type: 'init', title: 'Logs: web', target: TARGET, lines, dropped: 0, pods, maxLines };
}

describe('log panel webview (Chromium, real bundle)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let w: LogsWebview;
  before(async () => (browser = await launchBrowser()));
  after(async () => browser?.close());
  beforeEach(async () => (w = await openLogsWebview({ browser })));
  afterEach(async () => w?.close());

  const status = () => w.page.locator('.status').textContent();
  const texts = () => w.page.locator('.row .text').allTextContents();
  /** Waits until the element's text matches `re`. */
  const untilText = (selector: string, re: RegExp) =>
    w.page.waitForFunction(
      ([sel, source]) => new RegExp(source).test(document.querySelector(sel)?.textContent ?? ''),
      [selector, re.source] as const,
      { timeout: 30_000 },
    );
  const untilStatus = (re: RegExp) => untilText('.status', re);
  // A click is drawn at the next animation frame, so the detail view is read once it shows the line.
  const detailShowing = async (re: RegExp) => {
    await untilText('.detail:not(.hidden)', re);
    return (await w.page.locator('.detail').textContent()) ?? '';
  };
  const typeFilter = async (text: string) => {
    await w.page.evaluate((t) => {
      const field = document.querySelector('vscode-textfield.filter') as HTMLElement & { value: string };
      field.value = t;
      field.dispatchEvent(new Event('input'));
    }, text);
  };

  it('shows hostile lines (markup, script, OSC 8 links, cursor movement, controls) as their text and runs nothing', async () => {
    await w.post(init(HOSTILE_LINES.map((h, i) => line(i + 1, h.raw))));
    await untilStatus(new RegExp(`^${HOSTILE_LINES.length} of ${HOSTILE_LINES.length} lines`));
    assert.deepEqual(
      await texts(),
      HOSTILE_LINES.map((h) => h.shown),
    );
    // Colours became classes on spans around the markup-looking text, not markup.
    assert.equal(await w.page.locator('.row .text span.ansi-fg-1.ansi-bold').textContent(), '<b>red</b>');
    // Each line, selected, opens the detail view as text too (the JSON one pretty-printed).
    for (let i = 0; i < HOSTILE_LINES.length; i++) await w.page.locator('.row').nth(i).click();
    await w.page.locator('.row', { hasText: '"level":"error"' }).click();
    assert.match(await detailShowing(/"level": "error"/), /"html": "<script>window.__scriptRan\(\)<\/script>"/);
    await w.page.locator('.row .text', { hasText: 'click me' }).click();
    await w.page.waitForTimeout(300); // would-be onerror/onload handlers fire asynchronously
    assert.deepEqual(await w.foreignElements(), [], 'log text created no element');
    assert.equal(await w.scriptsRun(), 0, 'no script from a log line ran');
    assert.deepEqual(await w.violations(), [], 'nothing even reached the CSP');
    assert.equal(
      await w.page.evaluate(() => getComputedStyle(document.body).display),
      'flex',
      'no injected style applied',
    );
  });

  it('keeps a 1 MB line: the row shows its start, the detail view, copy and export the whole line', async () => {
    const big = 'x'.repeat(500_000) + ' MIDDLE ' + 'y'.repeat(499_992);
    assert.equal(big.length, 1_000_000);
    await w.post(init([line(1, 'before'), line(2, big), line(3, 'after')]));
    await untilStatus(/^3 of 3 lines/);
    const row = w.page.locator('.row').nth(1);
    const shown = (await row.locator('.text').textContent()) ?? '';
    assert.ok(shown.startsWith('x'.repeat(10_000)) && shown.includes('990000 more characters'), shown.slice(-80));
    await row.click();
    assert.equal((await detailShowing(/ MIDDLE /)).length, 1_000_000);
    await w.page.keyboard.press('Control+c');
    await w.page.locator('.toolbar button', { hasText: 'Export' }).click();
    const posted = (await w.posted()) as Array<{ type: string; text?: string }>;
    assert.equal(posted.find((m) => m.type === 'copy')?.text, big);
    assert.equal(
      posted
        .find((m) => m.type === 'export')
        ?.text?.split('\n')[1]
        .endsWith(big),
      true,
    );
    // A filter that matches past the displayed part still finds the line.
    await typeFilter('MIDDLE');
    await untilStatus(/^1 of 3 lines/);
    assert.equal((await texts()).length, 1);
  });

  it('shows invalid UTF-8 from the core splitter to the screen as U+FFFD and keeps streaming', async () => {
    const src = new FakeSource();
    src.chunkBytes = 3; // the bad bytes straddle chunk boundaries
    src.addPod('web-0', ['web']);
    const agg = new LogAggregator({ source: src, namespace: 'demo', labelSelector: 'app=web', tailLines: 0 });
    const received: LogLine[] = [];
    agg.subscribe({ lines: (ls) => received.push(...ls) });
    agg.start();
    try {
      const deadline = Date.now() + 5_000;
      while (src.openStreams() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      src.writeBytes(
        'web-0',
        'web',
        Buffer.concat([Buffer.from('bad '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' end <b>é</b>')]),
      );
      src.writeBytes('web-0', 'web', Buffer.from([0xe2, 0x82])); // a truncated euro sign, then the line ends
      src.write('web-0', 'web', 'ERROR next line intact ü€');
      while (received.filter((l) => l.kind === 'log').length < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
    } finally {
      agg.stop();
    }
    await w.post(init([]));
    await w.post({ type: 'lines', lines: received, dropped: 0 });
    // Not "0 of 0" from the init just posted: the batch's lines must be drawn.
    await untilStatus(/^[1-9]\d* of \d+ lines/);
    assert.deepEqual((await texts()).slice(-3), [
      'bad \uFFFD\uFFFD\uFFFD end <b>é</b>',
      '\uFFFD',
      'ERROR next line intact ü€',
    ]);
    assert.equal(await w.page.locator('.row.level-error .text').textContent(), 'ERROR next line intact ü€');
  });

  it('takes a flood of 100,000 lines in a second: the bound holds, lines stay text, the panel answers', async () => {
    const maxLines = 50_000;
    await w.post(init([], maxLines));
    const longestFrame = await w.meterFrames();
    const figures = await w.page.evaluate(async (bound) => {
      const levels = ['error', 'warn', 'info', 'debug', 'other'];
      const started = performance.now();
      // As the host sends it: a batch every 50 ms, 5,000 lines each.
      for (let batch = 0; batch < 20; batch++) {
        const lines = Array.from({ length: 5_000 }, (_, k) => {
          const n = batch * 5_000 + k;
          return {
            seq: n + 1,
            pod: `web-${n % 3}`,
            container: 'web',
            timestamp: '2026-11-28T12:00:00Z',
            level: levels[n % 5],
            kind: 'log',
            text: `flood ${n} <img src=x onerror=window.__scriptRan()>`,
          };
        });
        window.postMessage({ type: 'lines', lines, dropped: 0 }, '*');
        await new Promise((r) => setTimeout(r, 50));
      }
      const sent = performance.now() - started;
      // Responsiveness: how long a filter takes to show its result right after the flood.
      const t0 = performance.now();
      const field = document.querySelector('vscode-textfield.filter') as HTMLElement & { value: string };
      field.value = 'flood 9999';
      field.dispatchEvent(new Event('input'));
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const filterMs = performance.now() - t0;
      return { sent, filterMs, bound };
    }, maxLines);
    const longest = await longestFrame();
    console.log(
      `      flood: 100,000 lines sent in ${figures.sent.toFixed(0)} ms, longest frame ${longest.toFixed(0)} ms, filter right after ${figures.filterMs.toFixed(0)} ms`,
    );
    // The newest 50,000 lines are kept: 99990..99999 and 9999 (dropped: below 50,000) -> 11 matches.
    await untilStatus(/^10 of 50000 lines/);
    assert.deepEqual(
      await texts(),
      Array.from({ length: 10 }, (_, i) => `flood ${99990 + i} <img src=x onerror=window.__scriptRan()>`),
    );
    // Level counts cover exactly the kept lines that match the text filter.
    const counts = await w.page.locator('.chips.levels vscode-badge').allTextContents();
    assert.equal(
      counts.map(Number).reduce((a, b) => a + b, 0),
      10,
    );
    await w.page.keyboard.press('Control+f');
    await w.page.keyboard.press('Escape');
    await untilStatus(/^50000 of 50000 lines/);
    const badges = (await w.page.locator('.chips.levels vscode-badge').allTextContents()).map(Number);
    assert.deepEqual(badges, [10_000, 10_000, 10_000, 10_000, 10_000]);
    const rowsInDom = await w.page.locator('.row').count();
    assert.ok(rowsInDom > 0 && rowsInDom < 200, `${rowsInDom} rows in the DOM for 50,000 lines`);
    assert.match((await texts()).at(-1)!, /^flood 99999 /, 'following: the newest line is on screen');
    assert.equal(await w.scriptsRun(), 0);
    assert.deepEqual(await w.foreignElements(), []);
  });

  it('is served with a CSP Chromium enforces: no inline script, no eval, only the nonce script ran', async () => {
    const directives = w.csp.split(';').map((d) => d.trim());
    assert.equal(directives[0], "default-src 'none'");
    assert.match(
      directives.find((d) => d.startsWith('script-src'))!,
      /^script-src 'nonce-[\w-]+'$/,
    );
    assert.doesNotMatch(w.csp, /unsafe-inline|unsafe-eval|\*/);
    // In a task of the page's own (code evaluated by the test harness itself is exempt from CSP).
    const outcome = await w.page.evaluate(
      () =>
        new Promise<{ inline?: number; evalRan: boolean; fnRan: boolean }>((resolve) =>
          setTimeout(() => {
            const win = window as unknown as { __inline?: number };
            const s = document.createElement('script');
            s.textContent = 'window.__inline = 1';
            document.body.append(s);
            let evalRan = false;
            try {
              evalRan = (0, eval)('true');
            } catch {}
            let fnRan = false;
            try {
              fnRan = new Function('return true')();
            } catch {}
            const img = document.createElement('img');
            img.setAttribute('onerror', 'window.__scriptRan()');
            img.src = 'data:,x';
            document.body.append(img);
            resolve({ inline: win.__inline, evalRan, fnRan });
          }, 0),
        ),
    );
    await w.page.waitForTimeout(200);
    assert.deepEqual(outcome, { inline: undefined, evalRan: false, fnRan: false });
    assert.equal(await w.scriptsRun(), 0, 'an inline event handler did not run');
    const violations = await w.violations();
    assert.ok(
      violations.some((v) => v.startsWith('script-src')),
      violations.join(', '),
    );
  });

  it('sends the host only messages its validator accepts, and ignores unknown or malformed host messages', async () => {
    await w.post(init([line(1, 'INFO one'), line(2, 'ERROR two', { level: 'error' })]));
    await untilStatus(/^2 of 2 lines/);
    for (const junk of [
      { type: 'nope' },
      { type: 'lines' },
      { type: 'lines', lines: 'x' },
      null,
      42,
      'init',
      { type: 'init' },
    ]) {
      await w.page.evaluate((m) => window.postMessage(m, '*'), junk as never);
    }
    await w.page.waitForTimeout(200);
    assert.match((await status()) ?? '', /^2 of 2 lines/);
    assert.deepEqual(await texts(), ['INFO one', 'ERROR two']);
    await w.page.locator('.row').first().click();
    await w.page.keyboard.press('Control+c');
    await w.page.locator('.toolbar button', { hasText: 'Export' }).click();
    await w.page.locator('.toolbar button', { hasText: 'Clear' }).click();
    const posted = await w.posted();
    assert.deepEqual(
      posted.map((m) => (m as { type: string }).type),
      ['ready', 'copy', 'export', 'clear'],
    );
    for (const m of posted) assert.deepEqual(parseWebviewMessage(m), m);
  });

  it('still filters, highlights, counts, follows and pauses with incremental rendering', async () => {
    const lines = Array.from({ length: 1_000 }, (_, i) =>
      line(i + 1, `${['INFO', 'WARN', 'ERROR'][i % 3]} request ${i} \x1b[32mok\x1b[0m`, {
        level: (['info', 'warn', 'error'] as const)[i % 3],
        pod: `web-${i % 2}`,
      }),
    );
    await w.post(
      init(lines, 50_000, [
        { name: 'web-0', phase: 'Running', containers: ['web'] },
        { name: 'web-1', phase: 'Running', containers: ['web'] },
      ]),
    );
    await untilStatus(/^1000 of 1000 lines · following/);
    assert.equal((await texts()).at(-1), 'INFO request 999 ok');
    // Text filter with highlights, then a regex, then an invalid regex that filters nothing out.
    await typeFilter('request 99');
    await untilStatus(/^11 of 1000 lines/);
    assert.deepEqual(await w.page.locator('.row mark').allTextContents(), Array(11).fill('request 99'));
    await w.page.locator('.toolbar button[title="Use regular expression"]').click();
    await typeFilter('request 9\\d8 ');
    await untilStatus(/^10 of 1000 lines/);
    await typeFilter('request (');
    await untilStatus(/^1000 of 1000 lines/);
    assert.match((await w.page.locator('.filter-error').textContent()) ?? '', /Invalid regular expression/);
    await typeFilter('');
    // Level and pod chips, with counts that follow new lines.
    assert.deepEqual(
      (await w.page.locator('.chips.levels vscode-badge').allTextContents()).map(Number),
      [333, 333, 334, 0, 0],
    );
    await w.page.locator('.chips.levels button.chip.level-error').click();
    await w.page.locator('.chips.pods button.chip', { hasText: 'web-1' }).click();
    const web0NotError = lines.filter((l) => l.pod === 'web-0' && l.level !== 'error').length;
    await untilStatus(new RegExp(`^${web0NotError} of 1000 lines`));
    await w.page.locator('.chips.levels button.chip.level-error').click();
    await w.page.locator('.chips.pods button.chip', { hasText: 'web-1' }).click();
    await untilStatus(/^1000 of 1000 lines/);
    // Scrolling up pauses, new lines are counted, the button goes back to live.
    await w.page.locator('.list').evaluate((l) => (l.scrollTop = 0));
    await untilStatus(/paused$/);
    assert.equal((await texts())[0], 'INFO request 0 ok');
    await w.post({
      type: 'lines',
      lines: [line(2001, 'ERROR late', { level: 'error' }), line(2002, 'INFO later', { level: 'info' })],
      dropped: 0,
    });
    await w.page.locator('.live', { hasText: '2 new lines' }).waitFor();
    assert.equal((await texts())[0], 'INFO request 0 ok', 'the paused view did not move');
    assert.deepEqual(
      (await w.page.locator('.chips.levels vscode-badge').allTextContents()).map(Number),
      [334, 333, 335, 0, 0],
    );
    await w.page.locator('.live').click();
    await untilStatus(/^1002 of 1002 lines · following/);
    assert.equal((await texts()).at(-1), 'INFO later');
    // Clear, as the host confirms it.
    await w.post({ type: 'cleared' });
    await untilStatus(/^0 of 0 lines/);
    assert.equal(await w.page.locator('.row').count(), 0);
  });

  it('draws each pod of the panel in its own colour, the chips as the rows', async () => {
    // Two pods of one deployment that the old name hash coloured alike.
    const pods = ['web-7d9f8c6b5-x2k4p', 'web-7d9f8c6b5-q8r2m', 'web-0', 'web-1', 'web-2', 'web-3', 'web-4', 'web-5'];
    await w.post(
      init(
        pods.map((pod, i) => line(i + 1, `hello from ${pod}`, { pod })),
        50_000,
        pods.map((name) => ({ name, phase: 'Running', containers: ['web'] })),
      ),
    );
    await untilStatus(/^8 of 8 lines/);
    const colourOf = (selector: string) =>
      w.page
        .locator(selector)
        .evaluateAll((els) =>
          els.map((e): [string, string] => [
            e.textContent ?? '',
            [...e.classList].find((c) => c.startsWith('pod-colour-')) ?? '',
          ]),
        );
    const rows = new Map(await colourOf('.row .pod'));
    const chips = new Map(await colourOf('.chips.pods button.chip'));
    assert.equal(new Set(rows.values()).size, 8, JSON.stringify([...rows]));
    for (const pod of pods) assert.equal(chips.get(pod), rows.get(pod), pod);
  });
});
