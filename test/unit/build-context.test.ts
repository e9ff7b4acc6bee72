/** Which paths of a build context are sent: the docker CLI's rules, table-driven. */
import { describe, expect, it } from 'vitest';
import { ContextFilter, contextPatterns } from '../../src/docker/build-context.js';

describe('build context filter', () => {
  const cases: {
    ignore: string | undefined;
    dockerfile: string;
    sent: string[];
    notSent: string[];
    walked?: string[];
  }[] = [
    {
      ignore: undefined,
      dockerfile: 'Dockerfile',
      sent: ['Dockerfile', 'a/b.txt', '.dockerignore'],
      notSent: [],
    },
    { ignore: '# only comments\n\n', dockerfile: 'Dockerfile', sent: ['Dockerfile', 'x'], notSent: [] },
    {
      ignore: '*',
      dockerfile: 'Dockerfile',
      sent: ['Dockerfile', '.dockerignore'],
      notSent: ['secret.txt', 'src', 'src/main.py'],
    },
    {
      ignore: '*\n!src/main.py',
      dockerfile: './build/Dockerfile',
      sent: ['build/Dockerfile', '.dockerignore', 'src/main.py'],
      notSent: ['Dockerfile', 'build/other', 'src/lib.py'],
      walked: ['build', 'src'],
    },
    {
      ignore: 'secret.txt\n**/*.log\n/out',
      dockerfile: 'Dockerfile',
      sent: ['Dockerfile', 'src/a.txt'],
      notSent: ['secret.txt', 'x/y/z.log', 'out', 'out/file'],
    },
  ];

  it.each(cases)(
    '.dockerignore $ignore with $dockerfile',
    ({ ignore, dockerfile, sent, notSent, walked = [] }) => {
      const f = new ContextFilter(contextPatterns(ignore, dockerfile));
      for (const p of sent) expect(f.excludes(p), p).toBe(false);
      for (const p of notSent) expect(f.excludes(p), p).toBe(true);
      for (const d of walked) expect(f.walkExcludedDir(d), d).toBe(true);
    },
  );

  it('an excluded directory no exception reaches is not walked', () => {
    const f = new ContextFilter(contextPatterns('*\n!src/main.py', 'Dockerfile'));
    expect(f.excludes('node_modules')).toBe(true);
    expect(f.walkExcludedDir('node_modules')).toBe(false);
    expect(f.walkExcludedDir('sr')).toBe(false);
  });
});
