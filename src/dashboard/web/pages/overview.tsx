import { useEffect, useState } from 'preact/hooks';
import { get, subscribeAll, type ClusterView, type LineEvent, type LineStatus, type Overview, type VoiceStatus } from '../api.ts';
import { Badge, Empty, ErrorNote, Loading, PageHeader, SignalBars, useAsync } from '../components.tsx';
import { HeldElsewhere, Nodes } from './nodes.tsx';

const stateKind = (state: string) => (state === 'ready' ? 'ok' : state === 'failed' || state === 'absent' ? 'bad' : 'warn');
const trunkKind = (state: string) => (state === 'registered' || state === 'ip' ? 'ok' : state === 'failed' ? 'bad' : 'warn');
const VOICE_REFRESH_MS = 5000;

/** A line's recent events, newest first, loaded when opened (the last error alone hides what came before). */
function LineHistory({ id }: { id: string }) {
  const [events, setEvents] = useState<LineEvent[] | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  const load = () => {
    setFailed(false);
    get<{ events: LineEvent[] }>(`/admin/modems/${encodeURIComponent(id)}/events`).then((r) => setEvents(r.events), () => setFailed(true));
  };
  return (
    <details class="line-history" onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && load()}>
      <summary>History</summary>
      {failed ? (
        <span class="muted">could not load</span>
      ) : events === undefined ? (
        <span class="muted">loading…</span>
      ) : events.length === 0 ? (
        <span class="muted">nothing yet</span>
      ) : (
        <ol>
          {[...events].reverse().map((e) => (
            <li key={`${e.at}-${e.type}-${e.detail}`}>
              <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time> {e.type}: {e.detail}
              {e.repeated > 1 ? ` (×${e.repeated})` : ''}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}

/** The SIP server connection and each trunk's registration (shown only when voice is configured). */
function Voice() {
  const voice = useAsync(() => get<VoiceStatus>('/admin/voice/status'));
  useEffect(() => {
    const timer = setInterval(() => voice.reload(), VOICE_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const v = voice.data;
  if (!v?.enabled) return null;
  return (
    <section aria-labelledby="voice-h">
      <div class="row between">
        <h2 id="voice-h">Voice</h2>
        <Badge kind={v.connected ? 'ok' : 'bad'}>{v.connected ? 'SIP server connected' : 'SIP server unreachable'}</Badge>
      </div>
      {v.trunks.length === 0 ? (
        <Empty title="No trunks">Only this host (loopback) may call in. Add a carrier under voice.trunks: in the config file.</Empty>
      ) : (
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">Trunk</th>
              <th scope="col">Authentication</th>
              <th scope="col">State</th>
              <th scope="col">Expires</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {v.trunks.map((t) => (
              <tr key={t.name} data-trunk={t.name}>
                <th scope="row" data-label="Trunk">{t.name}</th>
                <td data-label="Authentication">{t.kind === 'register' ? 'registration' : 'by IP address'}</td>
                <td data-label="State">
                  <Badge kind={trunkKind(t.state)}>{t.state === 'ip' ? 'ready' : t.state}</Badge>
                </td>
                <td data-label="Expires">{t.expiresAt ? new Date(t.expiresAt).toLocaleString() : '—'}</td>
                <td data-label="Last error">{t.lastError ?? <span class="muted">none</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Lines({ lines, live, cluster }: { lines: LineStatus[] | undefined; live: boolean; cluster: ClusterView | undefined }) {
  return (
    <section aria-labelledby="lines-h">
      <div class="row between">
        <h2 id="lines-h">Lines</h2>
        <span class={live ? 'live on' : 'live'} role="status">
          {live ? 'Live' : 'Reconnecting…'}
        </span>
      </div>
      {lines === undefined ? (
        <Loading what="lines" />
      ) : lines.length === 0 ? (
        <Empty title="No lines">Configure a modem under modems: in the config file, or run with virtual lines.</Empty>
      ) : (
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Model</th>
              <th scope="col">Number</th>
              <th scope="col">Signal</th>
              <th scope="col">Registration</th>
              <th scope="col">Operator</th>
              <th scope="col">State</th>
              <th scope="col">Queue</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l) => (
              <tr key={l.id} data-line={l.id}>
                <th scope="row" data-label="Line">{l.id}</th>
                <td data-label="Model">{[l.manufacturer, l.model].filter(Boolean).join(' ') || '—'}</td>
                <td data-label="Number">{l.number ?? '—'}</td>
                <td data-label="Signal">
                  <SignalBars signal={l.signal} />
                </td>
                <td data-label="Registration">{l.registration}</td>
                <td data-label="Operator">{l.operator ?? '—'}</td>
                <td data-label="State">
                  <Badge kind={stateKind(l.state)}>{l.state}</Badge>
                  <HeldElsewhere cluster={cluster} line={l.id} />
                </td>
                <td data-label="Queue">{l.queueDepth}</td>
                <td data-label="Last error">
                  {l.lastError ?? <span class="muted">none</span>}
                  <LineHistory id={l.id} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function OverviewPage() {
  const overview = useAsync(() => get<Overview>('/admin/dashboard/overview'));
  // New messages change today's counts and quota use: refresh them as they happen.
  useEffect(() => subscribeAll('/admin/messages/stream', { message: () => overview.reload(), resync: () => overview.reload() }), []);
  // One stream carries the lines and the cluster view, so a node going dead shows without a reload.
  const [lines, setLines] = useState<LineStatus[]>();
  const [cluster, setCluster] = useState<ClusterView>();
  const [live, setLive] = useState(false);
  useEffect(
    () =>
      subscribeAll(
        '/admin/modems/stream',
        { lines: (d: { lines: LineStatus[] }) => setLines(d.lines), cluster: (d: ClusterView) => setCluster(d) },
        setLive,
      ),
    [],
  );
  const o = overview.data;
  return (
    <>
      <PageHeader title="Overview" />
      <ErrorNote error={overview.error} />
      {o && (
        <div class="cards">
          <section class="card stat" aria-labelledby="today-h">
            <h2 id="today-h">Messages today</h2>
            <p class="big" data-testid="messages-today">{o.today.inbound + o.today.outbound}</p>
            <p class="muted">
              {o.today.inbound} received · {o.today.outbound} sent
            </p>
          </section>
          <section class="card stat" aria-labelledby="hooks-h">
            <h2 id="hooks-h">Webhook failures</h2>
            <p class={o.webhooks.dead > 0 ? 'big bad' : 'big'}>{o.webhooks.dead}</p>
            <p class="muted">
              dead letters · {o.webhooks.retrying} retrying · {o.webhooks.held} held (no URL yet) · <a href="#/numbers">see Numbers</a>
            </p>
          </section>
          <section class="card" aria-labelledby="quota-h">
            <h2 id="quota-h">Quota use ({o.month})</h2>
            {o.quota.length === 0 ? (
              <p class="muted">No numbers yet.</p>
            ) : (
              <ul class="plain">
                {o.quota.map((q) => (
                  <li key={q.numberId}>
                    <label for={`quota-${q.numberId}`}>
                      {q.phoneNumber}: {q.segmentsUsed} of {q.segmentsIncluded} segments
                      {q.overageEnabled ? ' (overage on)' : ''}
                    </label>
                    <meter id={`quota-${q.numberId}`} min={0} max={q.segmentsIncluded} high={q.segmentsIncluded * 0.9} value={q.segmentsUsed} />
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}
      <Lines lines={lines} live={live} cluster={cluster} />
      <Nodes cluster={cluster} />
      <Voice />
    </>
  );
}
