/** `--target ID`, repeatable, shared by apply and diff. */
import { Option } from 'commander';

export function targetOption(): Option {
  return new Option(
    '--target <id>',
    'only this agent (repeatable; a replicated key targets every instance); others are left alone',
  ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}
