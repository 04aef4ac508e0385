// Building blocks of the self-contained HTML pages: escaping, and embedding
// data so that no value (a study name, a token, a parameter) can ever run as code.

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&` and the
 * line separators are written as \u escapes, so `</script>` or `<!--` inside a
 * string cannot end the block. The page reads it with JSON.parse(textContent).
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface PageParts {
  title: string;
  /** Extra CSS. */
  style?: string;
  /** Body HTML (already escaped where it holds data). */
  body: string;
  /** Named JSON data blocks, read in the page with readData(id). */
  data?: Record<string, unknown>;
  /** Inline scripts, in order (libraries first). */
  scripts?: string[];
}

const BASE_STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; }
  h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 16px; margin: 20px 0 8px; }
  .muted { color: #666; } .controls { margin: 8px 0; } .controls label { margin-right: 10px; }
  table { border-collapse: collapse; } th, td { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }
  th { cursor: pointer; background: #f4f4f4; } td.text, th.text { text-align: left; }
`;

/** One self-contained page: no external resource is referenced. */
export function renderPage(parts: PageParts): string {
  const data = Object.entries(parts.data ?? {})
    .map(([id, value]) => `<script type="application/json" id="${escapeHtml(id)}">${jsonForScript(value)}</script>`)
    .join('\n');
  const scripts = (parts.scripts ?? []).map((s) => `<script>${s.replace(/<\/script/gi, '<\\/script')}</script>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'self'">
<title>${escapeHtml(parts.title)}</title>
<style>${BASE_STYLE}${parts.style ?? ''}</style></head>
<body>
${parts.body}
${data}
<script>function readData(id) { return JSON.parse(document.getElementById(id).textContent); }</script>
${scripts}
</body></html>
`;
}
