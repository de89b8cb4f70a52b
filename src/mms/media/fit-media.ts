/** Makes a message's media fit the carrier's size limit: images are scaled and recompressed, not refused. */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { MediaError } from './media-error.ts';

export interface MediaItem {
  contentType: string;
  name: string;
  data: Uint8Array;
}

/** A part still on disk (a fetched file): read only once it is known to fit, or shrunk from the file. */
export interface StagedItem {
  contentType: string;
  name: string;
  path: string;
  size: number;
}

type Input = MediaItem | StagedItem;
const sizeOf = (i: Input) => ('data' in i ? i.data.length : i.size);
const load = async (i: Input): Promise<MediaItem> =>
  'data' in i ? i : { contentType: i.contentType, name: i.name, data: new Uint8Array(await readFile(i.path)) };

const RESIZABLE = new Set(['image/jpeg', 'image/png', 'image/gif']);
/**
 * The most pixels an image may declare before it is decoded: a few KB of PNG can claim
 * 20,000 × 20,000 pixels (1.6 GB decoded). 40 MP covers any phone camera.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;
/** Longest side and JPEG quality, tried in order until the image fits its share. */
const STEPS: readonly [number, number][] = [
  [1600, 85], [1280, 80], [1024, 75], [800, 70], [640, 60], [480, 50], [320, 40], [160, 30],
];

async function shrink(item: Input, budget: number): Promise<MediaItem> {
  const base = item.name.replace(/\.\w+$/, '');
  // The header alone says how big the decode would be: refuse before any pixel is allocated.
  const { width = 0, height = 0 } = await sharp('data' in item ? item.data : item.path, { limitInputPixels: false }).metadata();
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new MediaError('MEDIA_TOO_LARGE', `${item.name}: ${width}×${height} pixels, more than the ${MAX_IMAGE_PIXELS} an MMS image may have`);
  }
  for (const [side, quality] of STEPS) {
    const out = await sharp('data' in item ? item.data : item.path, { animated: false, limitInputPixels: MAX_IMAGE_PIXELS })
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
 * Returns the items, in memory, so that their bytes plus `overheadBytes` fit `maxTotalBytes`.
 * Images are shrunk to share what the other parts leave; anything else over the limit is a
 * MediaError. Staged files are read only when they fit, so memory stays within the limit.
 */
export async function fitMedia(items: readonly Input[], maxTotalBytes: number, overheadBytes: number): Promise<MediaItem[]> {
  const total = items.reduce((n, i) => n + sizeOf(i), overheadBytes);
  if (total <= maxTotalBytes) return Promise.all(items.map(load));
  const fixed = items.filter((i) => !RESIZABLE.has(i.contentType)).reduce((n, i) => n + sizeOf(i), overheadBytes);
  const images = items.filter((i) => RESIZABLE.has(i.contentType));
  const room = maxTotalBytes - fixed;
  if (images.length === 0 || room <= 1024 * images.length) {
    throw new MediaError('MEDIA_TOO_LARGE', `the media total ${total} bytes, over this line's ${maxTotalBytes}-byte MMS limit, and only images can be shrunk`);
  }
  const share = Math.floor(room / images.length);
  const out: MediaItem[] = [];
  for (const item of items) {
    if (!RESIZABLE.has(item.contentType) || sizeOf(item) <= share) out.push(await load(item));
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
