import { useEffect, useState } from 'preact/hooks';
import {
  get,
  post,
  qs,
  subscribeAll,
  type CallEntry,
  type ConversationEntry,
  type ConversationPage,
  type ConversationSummary,
  type ConversationThread,
  type Delivery,
  type MessageView,
  type NumberView,
} from '../api.ts';
import { DeliveryCells, Empty, ErrorNote, Loading, messageOf, PageHeader, Ticks, Time, useAsync } from '../components.tsx';

/** Media the gateway stored (a received MMS part): `<base>/media/<id>`, served by this gateway too. */
const STORED_MEDIA = /\/media\/([0-9A-Za-z]{1,32})$/;

/**
 * Why a part has no stored copy to show. Only received media are stored; what an agent sends
 * is fetched from its URL at send time and not kept, and loading that URL here would tell a
 * third party when the operator looks (the page's CSP refuses it anyway).
 */
function unstoredReason(m: MessageView): string {
  if (m.direction === 'inbound') return 'not stored by the gateway';
  if (m.status === 'failed') return `not sent: ${m.error?.message ?? 'the send failed'}`;
  return "sent from the agent's URL; the gateway keeps no copy";
}

/** One media part: the stored file (picture inline, else a link), or a placeholder that says why there is none. */
function MediaPart({ m, url }: { m: MessageView; url: string }) {
  const [notImage, setNotImage] = useState(false);
  const stored = m.direction === 'inbound' ? STORED_MEDIA.exec(url) : null;
  if (!stored) {
    return (
      <span class="media-missing" title={url}>
        <span aria-hidden="true">📎</span> <span class="ellipsis">{url}</span>
        <span class="small">({unstoredReason(m)})</span>
      </span>
    );
  }
  // Loaded from this origin (the gateway serves /media itself), whatever media.publicUrl says.
  const src = `/media/${stored[1] as string}`;
  return notImage ? (
    <a class="media-file" href={url} target="_blank" rel="noreferrer noopener">
      📎 Attachment (open or download)
    </a>
  ) : (
    <a href={url} target="_blank" rel="noreferrer noopener">
      <img src={src} alt="Attachment" loading="lazy" onError={() => setNotImage(true)} />
    </a>
  );
}

function Bubble({ m }: { m: MessageView }) {
  return (
    <li class={`bubble ${m.direction}`}>
      {m.media.length > 0 && (
        <div class="media">
          {m.media.map((url, i) => (
            <MediaPart key={`${i}:${url}`} m={m} url={url} />
          ))}
        </div>
      )}
      {m.body && <p>{m.body}</p>}
      <span class="meta">
        <a href={`#/messages/${m.id}`} aria-label={`Details of the message sent ${new Date(m.createdAt).toLocaleString()}`}>
          <Time iso={m.createdAt} />
        </a>{' '}
        {m.direction === 'outbound' && <Ticks status={m.status} />}
      </span>
    </li>
  );
}

/** Back to the newest page, and on to the next older one when there is one. */
function Pager({ cursor, next, onCursor }: { cursor: string | undefined; next: string | null; onCursor: (cursor: string | undefined) => void }) {
  return (
    <div class="row">
      {cursor && (
        <button type="button" onClick={() => onCursor(undefined)}>
          Newest
        </button>
      )}
      {next && (
        <button type="button" onClick={() => onCursor(next)}>
          Older
        </button>
      )}
    </div>
  );
}

function NumberOptions({ numbers }: { numbers: NumberView[] | undefined }) {
  return (
    <>
      {numbers?.map((n) => (
        <option key={n.id} value={n.id}>
          {n.phoneNumber}
        </option>
      ))}
    </>
  );
}

const conversationsPath = (numberId: string) => `/admin/numbers/${encodeURIComponent(numberId)}/conversations`;

function CallItem({ c }: { c: CallEntry }) {
  const minutes = c.duration_s === null ? null : `${Math.floor(c.duration_s / 60)}:${String(c.duration_s % 60).padStart(2, '0')}`;
  return (
    <li class={`bubble call ${c.direction}`}>
      <p>
        <span aria-hidden="true">📞</span> {c.direction === 'inbound' ? 'Incoming' : 'Outgoing'} call, {c.status}
        {minutes && `, ${minutes}`}
      </p>
      {c.summary && <p class="small">{c.summary}</p>}
      <span class="meta">
        <Time iso={c.started_at} />
      </span>
    </li>
  );
}

/** One conversation, oldest at the top; earlier pages load on demand. Opening it marks it read. */
function Thread({ numberId, phoneNumber, conv, version, onRead }: { numberId: string; phoneNumber: string; conv: ConversationSummary; version: number; onRead: () => void }) {
  const path = `${conversationsPath(numberId)}/${encodeURIComponent(conv.contact)}`;
  const thread = useAsync(() => get<ConversationThread>(`${path}${qs({ limit: 50 })}`), [path, version]);
  const [earlier, setEarlier] = useState<{ entries: ConversationEntry[]; next: string | null }>({ entries: [], next: null });
  const [loadError, setLoadError] = useState<string>();
  useEffect(() => setEarlier({ entries: [], next: null }), [path]);
  useEffect(() => {
    if (conv.unread_count > 0) post(`${path}/read`).then(onRead, () => undefined);
  }, [path, conv.unread_count]);
  const next = earlier.entries.length > 0 ? earlier.next : (thread.data?.next_cursor ?? null);
  const loadEarlier = (cursor: string) =>
    get<ConversationThread>(`${path}${qs({ limit: 50, cursor })}`).then(
      (page) => setEarlier({ entries: [...earlier.entries, ...page.entries], next: page.next_cursor }),
      (err: unknown) => setLoadError(messageOf(err)),
    );
  const entries = thread.data && [...thread.data.entries, ...earlier.entries].reverse();
  return (
    <section class="thread card" aria-label={`Conversation with ${conv.contact}`}>
      <h2>
        {conv.contact} <span class="muted">with {phoneNumber}</span>
      </h2>
      <ErrorNote error={thread.error ?? loadError} />
      {next && (
        <button type="button" onClick={() => void loadEarlier(next)}>
          Earlier
        </button>
      )}
      {entries === undefined ? (
        <Loading what="messages" />
      ) : (
        <ol class="bubbles">{entries.map((e) => (e.type === 'call' ? <CallItem key={e.id} c={e} /> : <Bubble key={e.id} m={e} />))}</ol>
      )}
    </section>
  );
}

/** The number whose newest conversation is the most recent: the page opens on it. */
async function liveliestNumber(numbers: NumberView[]): Promise<string | undefined> {
  const newest = await Promise.all(
    numbers.map(async (n) => ({ id: n.id, at: (await get<ConversationPage>(`${conversationsPath(n.id)}${qs({ limit: 1 })}`)).conversations[0]?.last_activity ?? '' })),
  );
  return newest.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))[0]?.id;
}

function Conversations({ version }: { version: number }) {
  const numbers = useAsync(() => get<{ numbers: NumberView[] }>('/admin/numbers'));
  const first = useAsync(() => (numbers.data ? liveliestNumber(numbers.data.numbers) : Promise.resolve(undefined)), [numbers.data]);
  const [chosen, setChosen] = useState<string>();
  const [cursor, setCursor] = useState<string>();
  const [open, setOpen] = useState<string>();
  const numberId = chosen ?? first.data;
  const number = numbers.data?.numbers.find((n) => n.id === numberId);
  const convs = useAsync(
    () => (numberId ? get<ConversationPage>(`${conversationsPath(numberId)}${qs({ cursor, limit: 50 })}`) : Promise.resolve(undefined)),
    [numberId, cursor, version],
  );
  const list = convs.data?.conversations;
  const current = list?.find((c) => c.contact === open) ?? list?.[0];
  const error = numbers.error ?? first.error ?? convs.error;
  if (error) return <ErrorNote error={error} />;
  if (numbers.data?.numbers.length === 0) return <Empty title="No numbers yet">A number appears when a modem line comes up.</Empty>;
  if (!list || !number) return <Loading what="conversations" />;
  return (
    <>
      <div class="filters">
        <div>
          <label for="c-number">Number</label>
          <select
            id="c-number"
            value={number.id}
            onChange={(e) => {
              setChosen(e.currentTarget.value);
              setCursor(undefined);
              setOpen(undefined);
            }}
          >
            <NumberOptions numbers={numbers.data?.numbers} />
          </select>
        </div>
      </div>
      {list.length === 0 || !current ? (
        <Empty title="No messages yet">Messages appear here as your numbers send and receive them. Try the Simulator.</Empty>
      ) : (
        <div class="split">
          <nav aria-label="Conversations" class="side-list">
            <ul>
              {list.map((c) => (
                <li key={c.contact}>
                  <a
                    href="#/messages"
                    aria-current={c.contact === current.contact ? 'true' : undefined}
                    onClick={(e) => {
                      e.preventDefault();
                      setOpen(c.contact);
                    }}
                  >
                    <strong>
                      {c.contact}{' '}
                      {c.unread_count > 0 && (
                        <span class="badge badge-info" aria-label={`${c.unread_count} unread`}>
                          {c.unread_count}
                        </span>
                      )}
                    </strong>
                    <span class="muted ellipsis">
                      {c.last_message?.direction === 'outbound' ? 'You: ' : ''}
                      {c.last_message ? c.last_message.body || (c.last_message.media.length > 0 ? '📎 attachment' : '') : '📞 call'}
                    </span>
                    <span class="muted small">
                      <Time iso={c.last_activity} />
                    </span>
                  </a>
                </li>
              ))}
            </ul>
            <Pager cursor={cursor} next={convs.data?.next_cursor ?? null} onCursor={setCursor} />
          </nav>
          <Thread numberId={number.id} phoneNumber={number.phoneNumber} conv={current} version={version} onRead={convs.reload} />
        </div>
      )}
    </>
  );
}

function Table({ version }: { version: number }) {
  const numbers = useAsync(() => get<{ numbers: NumberView[] }>('/admin/numbers'));
  const [filters, setFilters] = useState({ numberId: '', direction: '', status: '', q: '' });
  const [cursor, setCursor] = useState<string>();
  const page = useAsync(() => get<{ messages: MessageView[]; nextCursor: string | null }>(`/admin/messages${qs({ ...filters, cursor, limit: 50 })}`), [JSON.stringify(filters), cursor, version]);
  const set = (k: keyof typeof filters, v: string) => {
    setCursor(undefined);
    setFilters({ ...filters, [k]: v });
  };
  const rows = page.data?.messages;
  return (
    <section aria-label="All messages">
      <form class="filters" onSubmit={(e) => e.preventDefault()} role="search">
        <div>
          <label for="f-number">Number</label>
          <select id="f-number" value={filters.numberId} onChange={(e) => set('numberId', e.currentTarget.value)}>
            <option value="">All numbers</option>
            <NumberOptions numbers={numbers.data?.numbers} />
          </select>
        </div>
        <div>
          <label for="f-direction">Direction</label>
          <select id="f-direction" value={filters.direction} onChange={(e) => set('direction', e.currentTarget.value)}>
            <option value="">Both</option>
            <option value="inbound">Received</option>
            <option value="outbound">Sent</option>
          </select>
        </div>
        <div>
          <label for="f-status">Status</label>
          <select id="f-status" value={filters.status} onChange={(e) => set('status', e.currentTarget.value)}>
            <option value="">Any</option>
            {['queued', 'sending', 'sent', 'delivered', 'failed', 'received'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="grow">
          <label for="f-q">Search text or contact</label>
          <input id="f-q" type="search" value={filters.q} onInput={(e) => set('q', e.currentTarget.value)} />
        </div>
      </form>
      <ErrorNote error={page.error} />
      {rows === undefined ? (
        <Loading what="messages" />
      ) : rows.length === 0 ? (
        <Empty title="No messages match">Change the filters, or send and receive a few.</Empty>
      ) : (
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Direction</th>
              <th scope="col">Channel</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Text</th>
              <th scope="col">Status</th>
              <th scope="col">Failure reason</th>
              <th scope="col">Segments</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id}>
                <td data-label="When">
                  <a href={`#/messages/${m.id}`}>
                    <Time iso={m.createdAt} />
                  </a>
                </td>
                <td data-label="Direction">{m.direction === 'inbound' ? 'Received' : 'Sent'}</td>
                <td data-label="Channel">{m.channel.toUpperCase()}</td>
                <td data-label="From">{m.from}</td>
                <td data-label="To">{m.to}</td>
                <td data-label="Text" class="ellipsis">
                  {m.body || (m.media.length > 0 ? `📎 ${m.media.length} attachment${m.media.length > 1 ? 's' : ''}` : '')}
                </td>
                <td data-label="Status">{m.status}</td>
                <td data-label="Failure reason" class="failure" title={m.error?.code}>
                  {m.error ? m.error.message : m.partial ? `parts missing: ${m.missingParts.join(', ')}` : ''}
                </td>
                <td data-label="Segments">{m.segments}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager cursor={cursor} next={page.data?.nextCursor ?? null} onCursor={setCursor} />
    </section>
  );
}

export function MessagesPage() {
  const [view, setView] = useState<'conversations' | 'table'>('conversations');
  const [version, setVersion] = useState(0);
  // 'resync': a cluster node's bus lost notifications, so a change may have been missed: read again.
  useEffect(() => subscribeAll('/admin/messages/stream', { message: () => setVersion((v) => v + 1), resync: () => setVersion((v) => v + 1) }), []);
  return (
    <>
      <PageHeader title="Messages">
        <div role="group" aria-label="View" class="segmented">
          <button type="button" aria-pressed={view === 'conversations'} onClick={() => setView('conversations')}>
            Conversations
          </button>
          <button type="button" aria-pressed={view === 'table'} onClick={() => setView('table')}>
            Table
          </button>
        </div>
      </PageHeader>
      {view === 'conversations' ? <Conversations version={version} /> : <Table version={version} />}
    </>
  );
}

export function MessageDetailPage({ id }: { id: string }) {
  const [version, setVersion] = useState(0);
  useEffect(
    () => subscribeAll('/admin/messages/stream', { message: (m: MessageView) => m.id === id && setVersion((v) => v + 1), resync: () => setVersion((v) => v + 1) }),
    [id],
  );
  const detail = useAsync(() => get<{ message: MessageView; number: NumberView; deliveries: Delivery[] }>(`/admin/messages/${encodeURIComponent(id)}`), [id, version]);
  const d = detail.data;
  return (
    <>
      <PageHeader title="Message">
        <a href="#/messages">Back to messages</a>
      </PageHeader>
      <ErrorNote error={detail.error} />
      {!d ? (
        !detail.error && <Loading what="the message" />
      ) : (
        <>
          <section class="card">
            <dl class="facts">
              <dt>Id</dt>
              <dd>
                <code>{d.message.id}</code>
              </dd>
              <dt>Direction</dt>
              <dd>{d.message.direction === 'inbound' ? 'Received' : 'Sent'}</dd>
              <dt>From</dt>
              <dd>{d.message.from}</dd>
              <dt>To</dt>
              <dd>{d.message.to}</dd>
              <dt>Status</dt>
              <dd>
                {d.message.status} <Ticks status={d.message.status} />
              </dd>
              <dt>Channel</dt>
              <dd>{d.message.channel.toUpperCase()}</dd>
              <dt>Encoding</dt>
              <dd>{d.message.encoding ?? '—'}</dd>
              <dt>Segments</dt>
              <dd>{d.message.segments}</dd>
              <dt>Created</dt>
              <dd>
                <Time iso={d.message.createdAt} />
              </dd>
              <dt>Delivered</dt>
              <dd>
                <Time iso={d.message.deliveredAt} />
              </dd>
              {d.message.partial && (
                <>
                  <dt>Partial</dt>
                  <dd>missing parts {d.message.missingParts.join(', ')}</dd>
                </>
              )}
              {d.message.error && (
                <>
                  <dt>Error</dt>
                  <dd class="error">
                    {d.message.error.code}: {d.message.error.message}
                  </dd>
                </>
              )}
            </dl>
            <h2>Text</h2>
            <p class="pre">{d.message.body || <span class="muted">(no text)</span>}</p>
          </section>
          <section class="card" aria-labelledby="parts-h">
            <h2 id="parts-h">Parts (PDU-level status)</h2>
            {!d.message.parts || d.message.parts.length === 0 ? (
              <p class="muted">{d.message.direction === 'inbound' ? 'Received parts are joined on arrival; none are kept.' : 'No parts.'}</p>
            ) : (
              <table class="responsive">
                <thead>
                  <tr>
                    <th scope="col">Part</th>
                    <th scope="col">Status</th>
                    <th scope="col">TP-MR</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Sent</th>
                    <th scope="col">Status report</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {d.message.parts.map((p) => (
                    <tr key={p.seq}>
                      <td data-label="Part">{p.seq}</td>
                      <td data-label="Status">{p.status}</td>
                      <td data-label="TP-MR">{p.messageRef ?? '—'}</td>
                      <td data-label="Attempts">{p.attempts}</td>
                      <td data-label="Sent">
                        <Time iso={p.sentAt} />
                      </td>
                      <td data-label="Status report">{p.report ? `TP-ST ${p.report.status} at ${new Date(p.report.at).toLocaleTimeString()}` : '—'}</td>
                      <td data-label="Error">{p.error ? `${p.error.code}: ${p.error.message}` : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section class="card" aria-labelledby="mdl-h">
            <h2 id="mdl-h">Webhook deliveries</h2>
            {d.deliveries.length === 0 ? (
              <p class="muted">No webhook events about this message.</p>
            ) : (
              <table class="responsive">
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Response</th>
                    <th scope="col">Delivered</th>
                  </tr>
                </thead>
                <tbody>
                  {d.deliveries.map((w) => (
                    <tr key={w.id}>
                      <DeliveryCells delivery={w} />
                      <td data-label="Delivered">
                        <Time iso={w.deliveredAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </>
  );
}
