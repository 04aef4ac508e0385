// The tuning report of a study: summary, optimization history, Pareto front,
// parameter importances, parallel coordinates, slices, a sortable table of
// trials and the best trial's attention maps. buildReportParts() gives the
// pieces (Vega specs compiled from Vega-Lite here, table HTML); the static
// report inlines them with the Vega runtime, and the dashboard fetches them.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile, type TopLevelSpec } from 'vega-lite';
import { fanovaImportances } from '../tune/importance/fanova.js';
import { type AttentionMaps, meanOverHeads } from './attention-maps.js';
import { heatmapSvg } from './heatmap-image.js';
import { escapeHtml, renderPage } from './html.js';
import {
  completed,
  historyChart,
  importanceChart,
  objectiveNames,
  parallelCoordinatesChart,
  paretoChart,
  paretoFront,
  type StudyData,
  sliceChart,
} from './report-charts.js';
import { REPORT_SCRIPT } from './report-script.js';

export type { StudyData } from './report-charts.js';

export interface ReportChart {
  id: string;
  /** A compiled Vega specification. */
  spec: unknown;
}

export interface ReportParts {
  title: string;
  summaryHtml: string;
  charts: ReportChart[];
  tableHtml: string;
  attentionHtml: string;
}

export interface ReportOptions {
  /** Attention maps of the best trial's model, drawn as head-mean heatmaps per layer. */
  bestTrialAttention?: AttentionMaps;
  /** One line under the maps' heading: which trial, on what input. */
  bestTrialCaption?: string;
}

function vegaSpec(spec: TopLevelSpec): unknown {
  return compile({ ...spec, config: { font: 'system-ui, sans-serif', ...(spec.config ?? {}) } } as TopLevelSpec).spec;
}

function summaryHtml(study: StudyData): string {
  const counts = new Map<string, number>();
  for (const t of study.trials) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const states = [...counts].map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ') || 'no trials yet';
  const names = objectiveNames(study);
  const goals = names.map((n, i) => `${escapeHtml(n)} (${study.directions[i]})`).join(', ');
  const front = paretoFront(study);
  const best = front
    .slice(0, 5)
    .map((t) => {
      const values = (t.values as number[]).map((v, i) => `${escapeHtml(names[i])} = ${Number(v.toPrecision(5))}`).join(', ');
      const params = Object.entries(t.params)
        .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(String(typeof v === 'number' ? Number(v.toPrecision(4)) : v))}`)
        .join(' ');
      return `<li>trial ${t.number}: ${values} <span class="muted">${params}</span></li>`;
    })
    .join('');
  const label = study.directions.length > 1 ? `Pareto front: ${front.length} trials` : 'Best trial';
  return `<p>${study.trials.length} trials (${escapeHtml(states)}). Objectives: ${goals}.</p>
<p>${label}${front.length > 5 ? ' (first 5)' : ''}:</p><ul id="best">${best || '<li class="muted">none completed yet</li>'}</ul>`;
}

function tableHtml(study: StudyData): string {
  const all = study.trials;
  if (all.length === 0) return '<p class="muted">No trials yet.</p>';
  const params = [...new Set(all.flatMap((t) => Object.keys(t.params)))];
  const names = objectiveNames(study);
  const head = ['trial', 'state', ...names, ...params, 'seconds'];
  const numeric = (v: unknown) => typeof v === 'number';
  const body = all
    .map((t) => {
      const secs = t.datetimeStart && t.datetimeComplete ? (t.datetimeComplete.getTime() - t.datetimeStart.getTime()) / 1000 : null;
      const cells: unknown[] = [
        t.number,
        t.state,
        ...names.map((_, i) => t.values?.[i] ?? null),
        ...params.map((p) => t.params[p] ?? null),
        secs,
      ];
      return `<tr>${cells
        .map((c) => {
          const text = c === null ? '' : numeric(c) ? String(Number((c as number).toPrecision(6))) : String(c);
          return `<td class="${numeric(c) ? '' : 'text'}" data-sort="${escapeHtml(c === null ? '' : String(c))}">${escapeHtml(text)}</td>`;
        })
        .join('')}</tr>`;
    })
    .join('\n');
  return `<table id="trials"><thead><tr>${head.map((h, i) => `<th data-col="${i}" class="${i === 1 || params.includes(h) ? 'text' : ''}">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

function attentionHtml(maps: AttentionMaps | undefined, caption?: string): string {
  if (!maps) return '';
  const cells = maps.layers.map((layer) => {
    const labels = layer.queryLength <= 40 ? { rows: layer.queryLabels, cols: layer.keyLabels } : {};
    const svg = heatmapSvg(
      { data: meanOverHeads(layer), rows: layer.queryLength, cols: layer.keyLength },
      { ...labels, title: `${layer.name}: mean over ${layer.heads.length} heads` },
      { cell: layer.queryLength > 40 ? 4 : 12 },
    );
    return `<div class="map">${svg}</div>`;
  });
  const under = caption ? `<p class="muted" id="attention-caption">${escapeHtml(caption)}</p>` : '';
  return `<h2>Attention of the best trial's model</h2>${under}<div class="maps">${cells.join('')}</div>`;
}

export function buildReportParts(study: StudyData, options: ReportOptions = {}): ReportParts {
  const charts: ReportChart[] = [];
  const done = completed(study);
  const names = objectiveNames(study);
  if (done.length > 0) {
    for (let i = 0; i < study.directions.length; i++) charts.push({ id: `history-${i}`, spec: vegaSpec(historyChart(study, i)) });
    if (study.directions.length > 1) charts.push({ id: 'pareto', spec: vegaSpec(paretoChart(study)) });
    if (done.length >= 2 && Object.keys(done[0].params).length > 0) {
      study.directions.forEach((_, i) => {
        try {
          charts.push({
            id: `importance-${i}`,
            spec: vegaSpec(importanceChart(fanovaImportances(done, { target: i, seed: 0 }), names[i])),
          });
        } catch {
          // fewer than two trials share a parameter: no importance chart
        }
      });
    }
    if (Object.keys(done[0].params).length > 0) {
      charts.push({ id: 'parallel', spec: vegaSpec(parallelCoordinatesChart(study)) });
      charts.push({ id: 'slices', spec: vegaSpec(sliceChart(study)) });
    }
  }
  return {
    title: `Study ${study.name}`,
    summaryHtml: summaryHtml(study),
    charts,
    tableHtml: tableHtml(study),
    attentionHtml: attentionHtml(options.bestTrialAttention, options.bestTrialCaption),
  };
}

let vegaRuntime: string | null = null;
/** The Vega runtime, inlined into pages so they need no network. */
export function vegaRuntimeSource(): string {
  if (vegaRuntime === null) {
    const entry = fileURLToPath(import.meta.resolve('vega'));
    vegaRuntime = readFileSync(entry.replace(/vega\.module\.js$/, 'vega.min.js'), 'utf8');
  }
  return vegaRuntime;
}

export const REPORT_STYLE = `
  .charts { display: flex; flex-wrap: wrap; gap: 24px; } .chart { min-width: 300px; }
  .maps { display: flex; flex-wrap: wrap; gap: 16px; } #best li { margin: 2px 0; }
`;

export const REPORT_BODY = `<div id="summary"></div><div class="charts" id="charts"></div>
<h2>Trials</h2><p class="muted">Click a column header to sort.</p><div id="table"></div><div id="attention"></div>`;

/** The whole report as one self-contained HTML file. */
export function renderStudyReport(study: StudyData, options: ReportOptions = {}): string {
  const parts = buildReportParts(study, options);
  return renderPage({
    title: parts.title,
    style: REPORT_STYLE,
    body: `<h1>${escapeHtml(parts.title)}</h1>${REPORT_BODY}`,
    data: { report: parts },
    scripts: [vegaRuntimeSource(), REPORT_SCRIPT, 'renderReport(readData("report"));'],
  });
}
