// Text from datasets and users (ids, query texts, model names, paths) is untrusted: it is
// escaped where a format would read it as markup.

/** Control characters (C0 but tab/newline, DEL, C1) and terminal escape sequences removed. */
export function stripControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
}

/** One line of markdown text: no control characters, newlines as spaces, HTML and table markup escaped. */
export function escapeMarkdown(text: string): string {
  return stripControl(text)
    .replace(/\s+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#!~])/g, '\\$1');
}

/** Inside a markdown code span: backticks cannot close it. */
export function codeSpan(text: string): string {
  const t = stripControl(text).replace(/\s+/g, ' ');
  if (!t.includes('`')) return `\`${t}\``;
  const fence = '`'.repeat(Math.max(...(t.match(/`+/g) ?? []).map((m) => m.length)) + 1);
  return `${fence} ${t} ${fence}`;
}
