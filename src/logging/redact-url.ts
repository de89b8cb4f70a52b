/**
 * A request URL as it may be logged: the path, and a query string in which only the API's
 * own harmless parameters keep their values. A client may put an API key, the admin token,
 * a phone number or message text in any parameter, under any name (a key pasted as a bare
 * `?agp_…` is a name), so both lists say what is shown, never what is hidden.
 */
const SHOWN_VALUES: ReadonlySet<string> = new Set(['limit', 'direction', 'status', 'month', 'since', 'until', 'cursor', 'before', 'numberId']);

/** Parameters the API takes whose values may be personal (phone numbers, search text): name shown, value hidden. */
const SHOWN_NAMES: ReadonlySet<string> = new Set([...SHOWN_VALUES, 'contact', 'phone', 'q']);

export const REDACTED = '[redacted]';

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0 || q === url.length - 1) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      if (!SHOWN_NAMES.has(name)) return REDACTED;
      return eq < 0 || SHOWN_VALUES.has(name) ? pair : `${name}=${REDACTED}`;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}
