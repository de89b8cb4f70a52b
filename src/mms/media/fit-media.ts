/** Makes a message's media fit the carrier's size limit: images are scaled and recompressed, not refused. */
import sharp from 'sharp';
import { MediaError } from './media-error.ts';

export interface MediaItem {
  contentType: string;
  name: string;
  data: Uint8Array;
}

const RESIZABLE = new Set(['image/jpeg', 'image/png', 'image/gif']);
/** Longest side and JPEG quality, tried in order until the image fits its share. */
const STEPS: readonly [number, number][] = [
  [1600, 85], [1280, 80], [1024, 75], [800, 70], [640, 60], [480, 50], [320, 40], [160, 30],
];

async function shrink(item: MediaItem, budget: number): Promise<MediaItem> {
  const base = item.name.replace(/\.\w+$/, '');
  for (const [side, quality] of STEPS) {
    const out = await sharp(item.data, { animated: false })
      .rotate()
      .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality, mozjpeg: true })
      .toBuffer();
    if (out.length <= budget) return { contentType: 'image/jpeg', name: `${base}.jpg`, data: new Uint8Array(out) };
  }
  throw new MediaError('MEDIA_TOO_LARGE', `${item.name}: cannot be made smaller than ${budget} bytes`);
}

/**
 * Returns the items so that their bytes plus `overheadBytes` fit `maxTotalBytes`. Images are
 * shrunk to share what the other parts leave; anything else over the limit is a MediaError.
 */
export async function fitMedia(items: readonly MediaItem[], maxTotalBytes: number, overheadBytes: number): Promise<MediaItem[]> {
  const total = items.reduce((n, i) => n + i.data.length, overheadBytes);
  if (total <= maxTotalBytes) return [...items];
  const fixed = items.filter((i) => !RESIZABLE.has(i.contentType)).reduce((n, i) => n + i.data.length, overheadBytes);
  const images = items.filter((i) => RESIZABLE.has(i.contentType));
  const room = maxTotalBytes - fixed;
  if (images.length === 0 || room <= 1024 * images.length) {
    throw new MediaError('MEDIA_TOO_LARGE', `the media total ${total} bytes, over this line's ${maxTotalBytes}-byte MMS limit, and only images can be shrunk`);
  }
  const share = Math.floor(room / images.length);
  const out: MediaItem[] = [];
  for (const item of items) {
    if (!RESIZABLE.has(item.contentType) || item.data.length <= share) out.push(item);
    else {
      try {
        out.push(await shrink(item, share));
      } catch (err) {
        if (err instanceof MediaError) throw err;
        throw new MediaError('MEDIA_TYPE', `${item.name}: not a readable ${item.contentType} image`);
      }
    }
  }
  return out;
}
