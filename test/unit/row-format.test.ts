import { describe, expect, it } from 'vitest';
import { compileFormat, type FormatField } from '../../src/render/row-format.js';

interface Row {
  id: string;
  state: string;
}
const fields: Record<string, FormatField<Row>> = {
  ID: { header: 'AGENT', value: (r) => r.id },
  State: { header: 'STATE', value: (r) => r.state },
};
const rows: Row[] = [
  { id: 'a', state: 'running' },
  { id: 'worker-10', state: 'exited' },
];
const render = (t: string, r = rows) => compileFormat(t, fields, (x) => x).render(r);

describe('--format templates', () => {
  const cases: [string, string, string][] = [
    ['one field', '{{.ID}}', 'a\nworker-10\n'],
    ['spaces inside the braces', '{{ .ID }}', 'a\nworker-10\n'],
    ['literal text and a typed \\t', 'id={{.ID}}\\t{{.State}}', 'id=a\trunning\nid=worker-10\texited\n'],
    ['json of the row', '{{json .}}', '{"id":"a","state":"running"}\n{"id":"worker-10","state":"exited"}\n'],
    [
      'table: header and aligned columns',
      'table {{.ID}}\\t{{.State}}',
      'AGENT       STATE\na           running\nworker-10   exited\n',
    ],
    ['no template fields at all', 'x', 'x\nx\n'],
  ];
  it.each(cases)('%s', (_name, template, out) => {
    expect(render(template)).toBe(out);
  });

  it('no rows: nothing, or only the header under table', () => {
    expect(render('{{.ID}}', [])).toBe('');
    expect(render('table {{.ID}}', [])).toBe('AGENT\n');
  });

  const bad: [string, RegExp][] = [
    ['{{.Id}}', /unknown field "\{\{.Id\}\}"; did you mean "\{\{.ID\}\}"\?/],
    ['{{.Nope}}', /unknown field "\{\{.Nope\}\}"$/],
    ['{{printf "%s" .ID}}', /unknown field/],
  ];
  it.each(bad)('%s is refused', (template, message) => {
    expect(() => render(template)).toThrow(message);
    try {
      render(template);
    } catch (e) {
      expect((e as { details: string[] }).details).toEqual(['fields: .ID, .State, and {{json .}}']);
    }
  });
});
