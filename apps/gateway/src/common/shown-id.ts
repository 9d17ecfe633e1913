const MAX_SHOWN = 200;

/** An id as an error message may echo it: whole when sane, cut at 200 characters when not. */
export function shownId(id: string): string {
  return id.length > MAX_SHOWN ? `${id.slice(0, MAX_SHOWN)}…` : id;
}
