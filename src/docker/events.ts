/**
 * The engine's event stream (`GET /events`) is newline-delimited JSON for as long as the connection
 * lives. This turns its body into domain ContainerEvents. Used by src/docker/engine.ts only.
 */
import { jsonLines } from './json-lines.js';
import type { ContainerEvent } from './port.js';

/** Engine API event shape (only the fields used). */
interface ApiEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  time?: number;
  timeNano?: number;
}

/**
 * Yields each container event of the body; ends when the engine closes the stream and throws when the
 * connection breaks (iterating a Readable does both). A line that is not an event is skipped.
 */
export async function* containerEventsFrom(
  body: AsyncIterable<Buffer | string>,
): AsyncGenerator<ContainerEvent> {
  for await (const e of jsonLines<ApiEvent>(body)) {
    const event = toContainerEvent(e);
    if (event) yield event;
  }
}

export function toContainerEvent(e: ApiEvent): ContainerEvent | undefined {
  if (e.Type !== 'container' || !e.Action || !e.Actor?.ID) return undefined;
  return {
    action: e.Action,
    containerId: e.Actor.ID,
    attributes: e.Actor.Attributes ?? {},
    timeMs: e.timeNano ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000,
  };
}
