/**
 * `--format` templates, a documented subset of docker's Go templates: `{{.Field}}` (spaces allowed
 * inside the braces), `{{json .}}` (the row as in `-o json`), the escapes `\t` and `\n` as written on a
 * shell line, and a `table ` prefix that prints a header and aligns the tab-separated columns. Anything
 * else inside `{{ }}` is a usage error listing the fields, so a typo never prints empty columns.
 * Pure: the fields are given by the command.
 */
import { AgentctlError } from '../errors.js';
import { closest } from '../util/did-you-mean.js';
import { jsonText } from './json.js';
import { renderTable } from './table.js';

export interface FormatField<R> {
  /** Header of the column under `table`. */
  header: string;
  value: (row: R) => string;
}

type Part<R> = string | ((row: R) => string);

export interface RowFormat<R> {
  /** All rows as text, one line per row (plus the header with `table`), ending with a newline when any. */
  render(rows: readonly R[]): string;
}

export function compileFormat<R>(
  template: string,
  fields: Record<string, FormatField<R>>,
  toJson: (row: R) => unknown,
): RowFormat<R> {
  const table = /^table(\s|$)/.test(template);
  const body = unescape(table ? template.replace(/^table\s?/, '') : template);
  const parts: Part<R>[] = [];
  const headers: string[] = [];
  let last = 0;
  for (const m of body.matchAll(/\{\{\s*(.*?)\s*\}\}/g)) {
    const literal = body.slice(last, m.index);
    parts.push(literal);
    headers.push(literal);
    const action = m[1] ?? '';
    if (action === 'json .') {
      // One line: the document with -o json's conventions (null, not missing), compacted.
      parts.push((r) => JSON.stringify(JSON.parse(jsonText(toJson(r)))));
      headers.push('JSON');
    } else {
      const name = /^\.([A-Za-z]+)$/.exec(action)?.[1];
      const field = name !== undefined ? fields[name] : undefined;
      if (!field) throw unknownField(action, Object.keys(fields));
      parts.push(field.value);
      headers.push(field.header);
    }
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(body.slice(last));
  headers.push(body.slice(last));
  const line = (r: R | undefined, ps: Part<R>[]) =>
    ps.map((p) => (typeof p === 'string' ? p : r === undefined ? '' : p(r))).join('');
  return {
    render(rows) {
      if (!table) return rows.map((r) => `${line(r, parts)}\n`).join('');
      const header = headers.join('');
      const cells = rows.map((r) => line(r, parts).split('\t'));
      return `${renderTable(header.split('\t'), cells)}\n`;
    },
  };
}

/** `\t` and `\n` as typed in a shell's quotes, as docker reads them. */
function unescape(s: string): string {
  return s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function unknownField(action: string, names: string[]): AgentctlError {
  const name = action.replace(/^\./, '');
  const suggestion = closest(name, names);
  return new AgentctlError(
    'usage',
    `--format: unknown field "{{${action}}}"${suggestion ? `; did you mean "{{.${suggestion}}}"?` : ''}`,
    { details: [`fields: ${names.map((n) => `.${n}`).join(', ')}, and {{json .}}`] },
  );
}
