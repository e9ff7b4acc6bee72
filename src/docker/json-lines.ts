/**
 * The engine's build, pull and events streams are newline-delimited JSON: yields each object as its line
 * completes (a chunk may end mid-line). Ends when the body ends; throws when the connection breaks.
 */
export async function* jsonLines<T>(body: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let pending = '';
  for await (const chunk of body) {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const value = parse<T>(line);
      if (value !== undefined) yield value;
    }
  }
  const last = parse<T>(pending);
  if (last !== undefined) yield last;
}

function parse<T>(line: string): T | undefined {
  if (!line.trim()) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    // The engine only sends JSON here; a torn line is not worth failing a build or a watch over.
    return undefined;
  }
}
