/**
 * Splits a stream of newline-delimited JSON (the engine's build, pull and events streams) into parsed
 * objects, keeping a partial line until its end arrives.
 */
export class JsonLines<T> {
  private pending = '';

  constructor(private readonly onObject: (value: T) => void) {}

  push(chunk: Buffer | string): void {
    const lines = (this.pending + chunk.toString()).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }

  end(): void {
    this.emit(this.pending);
    this.pending = '';
  }

  private emit(line: string): void {
    if (!line.trim()) return;
    try {
      this.onObject(JSON.parse(line) as T);
    } catch {
      // The engine only sends JSON here; a torn line is not worth failing a build over.
    }
  }
}
