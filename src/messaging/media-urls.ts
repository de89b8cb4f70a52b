/** The `media` field of a send (API or inline webhook reply): a few http(s) URLs that the fetcher can parse. */
import type { Config } from '../config/index.ts';
import { ValidationError } from '../errors/index.ts';

export type MediaUrlLimits = Pick<Config['media'], 'maxPerMessage' | 'maxUrlLength'>;

/**
 * The media URLs of a send, or a ValidationError naming the field. URLs are checked with the
 * same WHATWG parser the fetcher uses, so nothing accepted here can fail to parse later.
 */
export function parseMediaUrls(media: unknown, limits: MediaUrlLimits): string[] {
  if (media === undefined || media === null) return [];
  if (!Array.isArray(media)) throw new ValidationError('media: must be an array of URLs');
  if (media.length > limits.maxPerMessage) {
    throw new ValidationError(`media: ${media.length} URLs, more than the ${limits.maxPerMessage} one message may carry`);
  }
  return media.map((m: unknown, i) => {
    if (typeof m !== 'string') throw new ValidationError(`media[${i}]: must be an http(s) URL`);
    if (m.length > limits.maxUrlLength) throw new ValidationError(`media[${i}]: longer than ${limits.maxUrlLength} characters`);
    if (!/^https?:\/\/\S+$/.test(m) || !URL.canParse(m)) throw new ValidationError(`media[${i}]: must be an http(s) URL`);
    return m;
  });
}
