// The browser side of the tuning report (plain JS, inlined): draws the
// compiled Vega specs and makes the trials table sortable. The static report
// calls renderReport once; the dashboard calls it again whenever trials change.

export const REPORT_SCRIPT = `
const reportViews = [];
function renderReport(parts) {
  document.getElementById('summary').innerHTML = parts.summaryHtml;
  document.getElementById('table').innerHTML = parts.tableHtml;
  document.getElementById('attention').innerHTML = parts.attentionHtml;
  const charts = document.getElementById('charts');
  while (reportViews.length) reportViews.pop().finalize();
  charts.innerHTML = '';
  const rendering = parts.charts.map((c) => {
    const div = document.createElement('div');
    div.className = 'chart';
    div.id = 'chart-' + c.id;
    charts.appendChild(div);
    const view = new vega.View(vega.parse(c.spec), { renderer: 'svg', container: div, hover: true });
    reportViews.push(view);
    return view.runAsync();
  });
  makeSortable(document.getElementById('trials'));
  return Promise.all(rendering).then(() => { document.body.dataset.charts = String(parts.charts.length); });
}
function makeSortable(table) {
  if (!table) return;
  table.querySelectorAll('th').forEach((th) => {
    th.addEventListener('click', () => {
      const col = Number(th.dataset.col);
      const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
      table.querySelectorAll('th').forEach((h) => delete h.dataset.dir);
      th.dataset.dir = dir;
      const rows = [...table.tBodies[0].rows];
      const key = (r) => r.cells[col].dataset.sort;
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        const nx = Number(x), ny = Number(y);
        const c = x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return dir === 'asc' ? c : -c;
      });
      for (const r of rows) table.tBodies[0].appendChild(r);
    });
  });
}
`;
