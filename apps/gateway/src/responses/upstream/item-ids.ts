import { newItemId } from '@app/session-store';
import { StreamEvent } from '../stream-events';

/**
 * Gives the items a `responses` upstream produces ids of ours, carrying the response's session tag
 * (so an `item_reference` to them is found in Redis like any other), the same id for every event
 * that names one item. Reasoning items keep the upstream's: they go back to it with their
 * encrypted content, which it checks against its id.
 */
export class UpstreamItemIds {
  private readonly ours = new Map<string, string>();

  constructor(private readonly tag: string) {}

  /** Our id for an upstream item id. */
  of(upstreamId: string): string {
    let id = this.ours.get(upstreamId);
    if (id === undefined) {
      const prefix = /^([a-z]+)_/.exec(upstreamId)?.[1] ?? 'item';
      id = prefix === 'rs' ? upstreamId : newItemId(prefix, this.tag);
      this.ours.set(upstreamId, id);
    }
    return id;
  }

  /** An output item with our id (items without one are left alone). */
  item<T extends { id?: unknown }>(item: T): T {
    return typeof item.id === 'string' ? { ...item, id: this.of(item.id) } : item;
  }

  /** A stream event with our ids in its `item_id` and its `item` (a `response` is rebuilt by the caller). */
  event(event: StreamEvent): StreamEvent {
    return {
      ...event,
      ...(typeof event.item_id === 'string' ? { item_id: this.of(event.item_id) } : {}),
      ...(isRecord(event.item) ? { item: this.item(event.item) } : {}),
    };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
