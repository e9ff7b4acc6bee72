/** The first few of a list of names, and how many more: `a-1, a-2, a-3, a-4, a-5, and 7 more`. */
export function someOf(names: readonly string[], shown = 5): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head}, and ${names.length - shown} more` : head;
}
