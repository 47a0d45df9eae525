// report.md as HTML, for what emb-bench's reports hold: headings, paragraphs, lists, pipe
// tables, code spans, bold, links and images. The source is escaped first, so raw HTML in it
// (from a model name or a query) shows as text; only this renderer's own tags are markup.
import { escapeHtml, Html } from './html.js';

function inline(text: string, image: (src: string) => string | null): string {
  // entities the source already holds (report.md escapes < > & so) stay entities, nothing more
  let s = escapeHtml(text).replace(/&amp;(lt|gt|amp|quot|#\d{1,6});/g, '&$1;');
  s = s.replace(/\\([\\`*_[\]|#!~])/g, (_, c: string) => `&#${c.charCodeAt(0)};`); // markdown escapes
  s = s.replace(/`([^`]+)`/g, '<code>$1</code>');
  s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  s = s.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_, alt: string, src: string) => {
    const url = image(src);
    return url ? `<img alt="${alt || 'image'}" src="${url}">` : alt;
  });
  s = s.replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" rel="noreferrer">$1</a>');
  return s;
}

/** `image(src)` maps an image path in the report to a URL the dashboard serves, or null. */
export function renderMarkdown(md: string, image: (src: string) => string | null = () => null): Html {
  const out: string[] = [];
  const lines = md.replace(/\r/g, '').split('\n');
  const cells = (l: string) =>
    l
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(6, heading[1].length + 1);
      out.push(`<h${level}>${inline(heading[2], image)}</h${level}>`);
      i++;
    } else if (line.trim().startsWith('|') && /^\s*\|?[\s:|-]+\|?\s*$/.test(lines[i + 1] ?? '')) {
      const head = cells(line);
      const align = cells(lines[i + 1]).map((c) => (c.endsWith(':') ? ' class="num"' : ''));
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].trim().startsWith('|')) rows.push(cells(lines[i++]));
      out.push(
        `<table><thead><tr>${head.map((h, c) => `<th${align[c] ?? ''}>${inline(h, image)}</th>`).join('')}</tr></thead><tbody>${rows
          .map((r) => `<tr>${r.map((v, c) => `<td${align[c] ?? ''}>${inline(v, image)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`,
      );
    } else if (/^\s*[-*]\s+/.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) items.push(lines[i++].replace(/^\s*[-*]\s+/, ''));
      out.push(`<ul>${items.map((t) => `<li>${inline(t, image)}</li>`).join('')}</ul>`);
    } else if (line.trim() === '') {
      i++;
    } else {
      const para: string[] = [];
      while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|\s*\||\s*[-*]\s)/.test(lines[i])) para.push(lines[i++]);
      out.push(`<p>${inline(para.join(' '), image)}</p>`);
    }
  }
  return new Html(out.join('\n'));
}
