// Server-rendered HTML: every interpolated value is escaped unless it is already Html (made by
// this tag). Text from the registry (model names, metadata, argv, query texts) is never markup.
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

type Value = Html | string | number | boolean | null | undefined | Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(render).join('');
  if (v instanceof Html) return v.value;
  return escapeHtml(String(v));
}

/** html`<p>${text}</p>`: the strings are markup, every value is escaped. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  values.forEach((v, i) => (out += render(v) + strings[i + 1]));
  return new Html(out);
}

/** A query string from parameters, dropping empty ones. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function page(title: string, body: Html, nav: string): Html {
  const link = (href: string, label: string) => html`<a href="${href}"${nav === label ? new Html(' aria-current="page"') : ''}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · emb-bench</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header><strong>emb-bench</strong> ${link('/', 'Models')} ${link('/runs', 'Runs')} ${link('/compare', 'Compare')}</header>
<main>
${body}
</main>
</body>
</html>
`;
}
