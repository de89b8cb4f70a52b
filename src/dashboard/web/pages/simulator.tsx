import { useEffect, useState } from 'preact/hooks';
import { get, post, subscribe, type SubscriberMessage, type SubscriberMmsView } from '../api.ts';
import { Empty, ErrorNote, Loading, PageHeader, messageOf, useAsync } from '../components.tsx';

interface SimInfo {
  enabled: boolean;
  lines: Array<{ lineId: string; number: string }>;
}

interface Bubble {
  key: string;
  mine: boolean;
  peer: string;
  body: string;
  at: string;
  /** MMS parts the phone received, served by the admin API (never the bytes inline). */
  media?: SubscriberMmsView['media'];
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Pictures the phone received are shown; anything else is a link with its name, type and size. */
function ReceivedPart({ part }: { part: NonNullable<Bubble['media']>[number] }) {
  const label = `${part.name ?? 'attachment'} (${part.contentType}, ${formatBytes(part.size)})`;
  return /^image\/(jpeg|png|gif|webp|bmp)$/.test(part.contentType) ? (
    <a href={part.url} target="_blank" rel="noreferrer noopener">
      <img src={part.url} alt={label} loading="lazy" />
    </a>
  ) : (
    <a class="media-file" href={part.url} target="_blank" rel="noreferrer noopener">
      📎 {label}
    </a>
  );
}

const E164 = /^\+[1-9][0-9]{6,14}$/;

async function toBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function Phone({ lines }: { lines: SimInfo['lines'] }) {
  const [phone, setPhone] = useState('+15557654321');
  const [to, setTo] = useState(lines[0]?.number ?? '');
  const [text, setText] = useState('');
  const [file, setFile] = useState<File>();
  const [fileInput, setFileInput] = useState(0);
  const [sent, setSent] = useState<Bubble[]>([]);
  const [inbox, setInbox] = useState<SubscriberMessage[]>([]);
  const [mmsInbox, setMmsInbox] = useState<SubscriberMmsView[]>([]);
  const [error, setError] = useState<string>();
  const valid = E164.test(phone);
  useEffect(() => {
    setInbox([]);
    setMmsInbox([]);
    if (!valid) return;
    return subscribe<{ messages: SubscriberMessage[]; mms?: SubscriberMmsView[] }>(`/admin/sim/stream?phone=${encodeURIComponent(phone)}`, 'inbox', (d) => {
      setInbox(d.messages);
      setMmsInbox(d.mms ?? []);
    });
  }, [phone, valid]);
  const send = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      if (file) {
        // With an attachment it is an MMS, through the virtual MMSC.
        const media = [{ name: file.name, ...(file.type && { contentType: file.type }), data: await toBase64(file) }];
        await post('/admin/sim/mms', { from: phone, to, body: text, media });
      } else {
        await post('/admin/sim/text', { from: phone, to, body: text });
      }
      const shown = file ? `${text}${text ? ' ' : ''}📎 ${file.name}` : text;
      setSent((s) => [...s, { key: `s${s.length}`, mine: true, peer: to, body: shown, at: new Date().toISOString() }]);
      setText('');
      setFile(undefined);
      setFileInput((n) => n + 1);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const bubbles = [
    ...sent.filter((b) => b.peer === to),
    ...inbox.filter((m) => m.from === to).map((m, i): Bubble => ({ key: `r${i}`, mine: false, peer: m.from, body: m.body, at: m.receivedAt })),
    ...mmsInbox
      .filter((m) => m.from === to)
      .map((m, i): Bubble => ({ key: `m${i}`, mine: false, peer: m.from, body: m.subject ? `${m.subject}\n${m.body}` : m.body, at: m.receivedAt, media: m.media })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return (
    <div class="phone-wrap">
      <div class="stack">
        <label for="sim-phone">Your phone number (the subscriber)</label>
        <input id="sim-phone" value={phone} onInput={(e) => setPhone(e.currentTarget.value.trim())} aria-invalid={!valid} aria-describedby="sim-phone-hint" />
        <span id="sim-phone-hint" class="muted small">
          {valid ? 'Any E.164 number: it is a phone on the virtual network.' : 'Enter an E.164 number such as +15557654321.'}
        </span>
        <label for="sim-to">Texting line</label>
        <select id="sim-to" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
          {lines.map((l) => (
            <option key={l.lineId} value={l.number}>
              {l.number} ({l.lineId})
            </option>
          ))}
        </select>
      </div>
      <section class="phone" aria-label="Simulated phone">
        <header class="phone-top">{to}</header>
        <ol class="bubbles" aria-live="polite" aria-label="Messages on the simulated phone">
          {bubbles.length === 0 && <li class="muted center">No messages yet. Say hello.</li>}
          {bubbles.map((b) => (
            <li key={b.key} class={`bubble ${b.mine ? 'outbound' : 'inbound'}`} data-from={b.mine ? 'me' : 'agent'}>
              {b.media && b.media.length > 0 && (
                <div class="media">
                  {b.media.map((part) => (
                    <ReceivedPart key={part.url} part={part} />
                  ))}
                </div>
              )}
              {b.body && <p>{b.body}</p>}
            </li>
          ))}
        </ol>
        <form class="composer" onSubmit={send}>
          <label for="sim-text" class="sr-only">
            Message
          </label>
          <input id="sim-text" placeholder="Text message" value={text} onInput={(e) => setText(e.currentTarget.value)} autocomplete="off" />
          <div class="composer-row">
            <input
              key={fileInput}
              id="sim-file"
              class="file-input"
              type="file"
              accept="image/*,video/*,audio/*,text/vcard,text/plain"
              onChange={(e) => setFile(e.currentTarget.files?.[0])}
            />
            <label for="sim-file" class="attach" title="Attach a picture or file (sends an MMS)">
              <span aria-hidden="true">📎</span> Attach<span class="sr-only"> a picture or file (sends an MMS)</span>
            </label>
            <span class="file-name ellipsis" aria-live="polite">
              {file ? `${file.name} (${formatBytes(file.size)})` : <span class="muted">No file: an SMS</span>}
            </span>
            {file && (
              <button
                type="button"
                class="link"
                onClick={() => {
                  setFile(undefined);
                  setFileInput((n) => n + 1);
                }}
              >
                Remove
              </button>
            )}
            <button type="submit" class="primary" disabled={!valid || (text.trim() === '' && !file) || to === ''}>
              Send
            </button>
          </div>
        </form>
        <ErrorNote error={error} />
      </section>
    </div>
  );
}

export function SimulatorPage() {
  const info = useAsync(() => get<SimInfo>('/admin/sim'));
  return (
    <>
      <PageHeader title="Simulator" />
      <p class="muted">Text a virtual line as a subscriber would; the agent's replies (inline or sent through the API) arrive here live.</p>
      <ErrorNote error={info.error} />
      {!info.data ? (
        !info.error && <Loading what="the virtual lines" />
      ) : !info.data.enabled || info.data.lines.length === 0 ? (
        <Empty title="No virtual lines are running">
          The simulator works with virtual lines: they run when no modem is configured (virtual.enabled: auto), or with virtual.enabled: true.
        </Empty>
      ) : (
        <Phone lines={info.data.lines} />
      )}
    </>
  );
}
