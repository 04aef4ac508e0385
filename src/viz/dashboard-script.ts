// The browser side of the dashboard (plain JS, inlined): polls the server and
// redraws the study list or a study's report when its trials change. Every
// value from the storage is put into the page as text, never as markup.

export const DASHBOARD_SCRIPT = `
const POLL_MS = 1500;
function el(tag, text) { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); return e; }
async function getJson(url) { const r = await fetch(url, { cache: 'no-store' }); if (!r.ok) throw new Error(url + ': ' + r.status); return r.json(); }

function startIndex() {
  const box = document.getElementById('studies');
  async function poll() {
    try {
      const studies = await getJson('/api/studies');
      const table = el('table');
      const head = table.createTHead().insertRow();
      for (const h of ['study', 'directions', 'trials', 'complete', 'running', 'pruned', 'failed']) head.appendChild(el('th', h));
      const body = table.createTBody();
      for (const s of studies) {
        const row = body.insertRow();
        const a = el('a', s.name); a.href = '/study/' + encodeURIComponent(s.name);
        const name = row.insertCell(); name.className = 'text'; name.appendChild(a);
        row.insertCell().textContent = s.directions.join(', ');
        row.insertCell().textContent = s.nTrials;
        for (const st of ['COMPLETE', 'RUNNING', 'PRUNED', 'FAIL']) row.insertCell().textContent = s.stateCounts[st] || 0;
      }
      box.replaceChildren(studies.length ? table : el('p', 'No studies in this storage yet.'));
      document.body.dataset.studies = String(studies.length);
    } catch (e) { box.replaceChildren(el('p', 'Cannot reach the dashboard server: ' + e.message)); }
    setTimeout(poll, POLL_MS);
  }
  poll();
}

function startStudy(name) {
  let seq = -1;
  const live = document.getElementById('live');
  async function poll() {
    try {
      const r = await getJson('/api/studies/' + encodeURIComponent(name) + '/report?since=' + seq);
      if (r.parts) await renderReport(r.parts);
      seq = r.seq;
      document.body.dataset.seq = String(seq);
      live.textContent = 'live: checked ' + new Date().toLocaleTimeString();
    } catch (e) { live.textContent = 'not updating: ' + e.message; }
    setTimeout(poll, POLL_MS);
  }
  poll();
}
`;
