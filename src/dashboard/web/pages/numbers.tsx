import { useEffect, useState } from 'preact/hooks';
import { get, patch, post, put, qs, type Delivery, type NumberView, type TestResult, type WebhookView } from '../api.ts';
import { Badge, Confirm, DeliveryCells, Empty, ErrorNote, Loading, PageHeader, Time, messageOf, useAsync } from '../components.tsx';
import { OptOutsPanel } from './opt-outs.tsx';

function WebhookForm({ number, onSaved }: { number: NumberView; onSaved: () => void }) {
  const [url, setUrl] = useState(number.webhookUrl ?? '');
  const [timeoutMs, setTimeoutMs] = useState(String(number.webhookTimeoutMs));
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    setUrl(number.webhookUrl ?? '');
    setTimeoutMs(String(number.webhookTimeoutMs));
  }, [number.id]);
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      await put<WebhookView>(`/admin/numbers/${number.id}/webhook`, { url: url.trim() === '' ? null : url.trim(), timeoutMs: Number(timeoutMs) });
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <form onSubmit={save} class="stack">
      <label for="webhook-url">Webhook URL</label>
      <input id="webhook-url" type="url" placeholder="https://agent.example.com/webhook" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      <label for="webhook-timeout">Timeout (ms)</label>
      <input
        id="webhook-timeout"
        type="number"
        min={100}
        max={120000}
        step={100}
        required
        value={timeoutMs}
        onInput={(e) => setTimeoutMs(e.currentTarget.value)}
      />
      <ErrorNote error={error} />
      <div class="row">
        <button type="submit" class="primary">
          Save webhook
        </button>
        {saved && (
          <span role="status" class="ok-text">
            Saved
          </span>
        )}
      </div>
    </form>
  );
}

function Secret({ numberId }: { numberId: string }) {
  const [secret, setSecret] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  useEffect(() => setSecret(undefined), [numberId]);
  const reveal = async () => {
    try {
      setSecret((await get<WebhookView>(`/admin/numbers/${numberId}/webhook`)).secret);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const rotate = async () => {
    setConfirming(false);
    try {
      setSecret((await post<WebhookView>(`/admin/numbers/${numberId}/webhook/rotate-secret`)).secret);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <div class="stack">
      <span class="label" id="secret-label">
        Signing secret
      </span>
      <div class="row">
        <code aria-labelledby="secret-label" data-testid="webhook-secret">
          {secret ?? '••••••••••••••••••••'}
        </code>
        {secret ? (
          <button type="button" onClick={() => setSecret(undefined)}>
            Hide
          </button>
        ) : (
          <button type="button" onClick={() => void reveal()}>
            Reveal
          </button>
        )}
        <button type="button" onClick={() => setConfirming(true)}>
          Rotate
        </button>
      </div>
      <ErrorNote error={error} />
      <Confirm open={confirming} title="Rotate the signing secret?" confirmLabel="Rotate secret" onConfirm={() => void rotate()} onCancel={() => setConfirming(false)}>
        <p>Webhooks are signed with the new secret at once. Your agent rejects them until it has the new one.</p>
      </Confirm>
    </div>
  );
}

function Overage({ number, onSaved }: { number: NumberView; onSaved: () => void }) {
  const [error, setError] = useState<string>();
  const toggle = async (enabled: boolean) => {
    try {
      await patch<NumberView>(`/admin/numbers/${number.id}/settings`, { overageEnabled: enabled });
      onSaved();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <div class="stack">
      <label class="switch">
        <input type="checkbox" role="switch" checked={number.overageEnabled} onChange={(e) => void toggle(e.currentTarget.checked)} />
        <span>Allow overage (sends past the included segments are billed instead of refused)</span>
      </label>
      <ErrorNote error={error} />
    </div>
  );
}

function TestEvent({ numberId }: { numberId: string }) {
  const [result, setResult] = useState<TestResult>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => setResult(undefined), [numberId]);
  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await post<TestResult>(`/admin/numbers/${numberId}/webhook/test`));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack">
      <div>
        <button type="button" onClick={() => void send()} disabled={busy}>
          {busy ? 'Sending…' : 'Send test event'}
        </button>
      </div>
      <ErrorNote error={error} />
      {result && (
        <div class="test-result" role="status" aria-label="Test event result">
          <p>
            {result.status === null ? <Badge kind="bad">No answer</Badge> : <Badge kind={result.status < 300 ? 'ok' : 'bad'}>HTTP {result.status}</Badge>} in{' '}
            {result.durationMs} ms from <code>{result.url}</code>
          </p>
          {result.error && <p class="error">{result.error}</p>}
          <pre aria-label="Response body">{result.body || '(empty body)'}</pre>
        </div>
      )}
    </div>
  );
}

function Deliveries({ numberId, status }: { numberId: string; status?: 'dead' }) {
  const list = useAsync(() => get<{ deliveries: Delivery[] }>(`/admin/numbers/${numberId}/deliveries${qs({ status, limit: 20 })}`), [numberId, status]);
  const [error, setError] = useState<string>();
  const redeliver = async (id: string) => {
    try {
      await post(`/admin/deliveries/${id}/redeliver`);
      list.reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const rows = list.data?.deliveries;
  return (
    <>
      <ErrorNote error={list.error ?? error} />
      {rows === undefined ? (
        <Loading what="deliveries" />
      ) : rows.length === 0 ? (
        <p class="muted">{status === 'dead' ? 'No dead letters.' : 'No webhook deliveries yet.'}</p>
      ) : (
        <table class="responsive">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Response</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id}>
                <DeliveryCells delivery={d} />
                <td data-label="Created">
                  <Time iso={d.createdAt} />
                </td>
                <td>
                  {d.redeliverable && (
                    <button type="button" onClick={() => void redeliver(d.id)} aria-label={`Redeliver ${d.event} ${d.id}`}>
                      Redeliver
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button type="button" class="link" onClick={list.reload}>
        Refresh
      </button>
    </>
  );
}

export function NumbersPage({ selected }: { selected: string | undefined }) {
  const numbers = useAsync(() => get<{ numbers: NumberView[] }>('/admin/numbers'));
  const list = numbers.data?.numbers;
  const number = list?.find((n) => n.id === selected) ?? list?.[0];
  return (
    <>
      <PageHeader title="Numbers" />
      <ErrorNote error={numbers.error} />
      {list === undefined ? (
        !numbers.error && <Loading what="numbers" />
      ) : list.length === 0 || !number ? (
        <Empty title="No numbers yet">A number appears when a modem line comes up with its SIM's number.</Empty>
      ) : (
        <div class="split">
          <nav aria-label="Numbers" class="side-list">
            <ul>
              {list.map((n) => (
                <li key={n.id}>
                  <a href={`#/numbers/${n.id}`} aria-current={n.id === number.id ? 'true' : undefined}>
                    <strong>{n.phoneNumber}</strong>
                    <span class="muted">
                      {n.label ?? n.line ?? 'no line'} · {n.id}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="stack wide" aria-live="polite">
            <section class="card" aria-labelledby="wh-h">
              <h2 id="wh-h">Webhook for {number.phoneNumber}</h2>
              <WebhookForm number={number} onSaved={numbers.reload} />
              <Secret numberId={number.id} />
              <TestEvent numberId={number.id} />
            </section>
            <section class="card" aria-labelledby="billing-h">
              <h2 id="billing-h">Billing</h2>
              <Overage number={number} onSaved={numbers.reload} />
            </section>
            <section class="card" aria-labelledby="opt-h">
              <h2 id="opt-h">Opt-outs</h2>
              <OptOutsPanel numberId={number.id} />
            </section>
            <section class="card" aria-labelledby="dl-h">
              <h2 id="dl-h">Recent deliveries</h2>
              <Deliveries numberId={number.id} />
            </section>
            <section class="card" aria-labelledby="dead-h">
              <h2 id="dead-h">Dead letters</h2>
              <Deliveries numberId={number.id} status="dead" />
            </section>
          </div>
        </div>
      )}
    </>
  );
}
