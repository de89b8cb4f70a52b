/**
 * Reads at most `limitBytes` of a body as they arrive; past that the download is cancelled,
 * which closes the connection, so an endless answer costs no more than the cap. `over` says
 * the body went on past the cap (the text then holds its first `limitBytes` bytes).
 */
export async function readBoundedBody(body: ReadableStream<Uint8Array> | null, limitBytes: number): Promise<{ text: string; over: boolean }> {
  if (!body) return { text: '', over: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limitBytes) {
      chunks.push(value.subarray(0, limitBytes - size));
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), over: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), over: false };
}
