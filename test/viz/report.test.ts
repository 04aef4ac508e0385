import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReportParts, renderStudyReport } from '../../src/viz/report.ts';
import { makeReportStudy } from './report-study.ts';

describe('tuning report', () => {
  it('has every chart for a two-objective study, and a table row per trial', async () => {
    const study = await makeReportStudy('two objectives', 30);
    const parts = buildReportParts({
      name: study.name,
      directions: study.directions,
      trials: study.trials,
      objectiveNames: ['bleu', 'latency'],
    });
    const ids = parts.charts.map((c) => c.id);
    assert.deepEqual(ids, ['history-0', 'history-1', 'pareto', 'importance-0', 'importance-1', 'parallel', 'slices']);
    assert.equal((parts.tableHtml.match(/<tr>/g) ?? []).length, 1 + 30);
    assert.match(parts.summaryHtml, /28 complete, 1 pruned, 1 fail/);
    assert.match(parts.summaryHtml, /Pareto front: \d+ trials/);
  });

  it('shows names, parameters and tokens as text, never as markup', async () => {
    const study = await makeReportStudy(undefined, 12);
    const html = renderStudyReport({ name: study.name, directions: study.directions, trials: study.trials });
    assert.ok(!html.includes('<script>window.__xss'), 'raw script tag from a study name reached the page');
    assert.ok(!html.includes('<b>"x"</b>'), 'raw markup from a parameter value reached the page');
    assert.match(html, /&#60;script&#62;window.__xss=1&#60;\/script&#62;/);
    assert.ok(!/src="http|href="http/.test(html), 'the report references an outside resource');
  });

  it('a study with no completed trial still renders', () => {
    const parts = buildReportParts({ name: 'empty', directions: ['minimize'], trials: [] });
    assert.deepEqual(parts.charts, []);
    assert.match(parts.summaryHtml, /no trials yet/);
  });
});
