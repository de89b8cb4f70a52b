import { useState } from 'preact/hooks';
import type { OptOutRecord } from '../../../compliance/shapes.ts';
import { get, post, qs, request } from '../api.ts';
import { ErrorNote, Loading, Time, messageOf, useAsync } from '../components.tsx';


/** A number's opted-out contacts (STOP or an admin), with add and remove; changes are audited as `dashboard`. */
export function OptOutsPanel({ numberId }: { numberId: string }) {
  const list = useAsync(() => get<{ optOuts: OptOutRecord[] }>(`/admin/opt-outs${qs({ numberId, state: 'opted_out', limit: 200 })}`), [numberId]);
  const [contact, setContact] = useState('');
  const [error, setError] = useState<string>();
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      list.reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const add = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      await post(`/admin/numbers/${numberId}/opt-outs`, { contact: contact.trim(), by: 'dashboard' });
      setContact('');
    });
  };
  const remove = (c: string) => act(() => request('DELETE', `/admin/numbers/${numberId}/opt-outs/${encodeURIComponent(c)}`, { by: 'dashboard' }));
  const rows = list.data?.optOuts;
  return (
    <div class="stack">
      <ErrorNote error={list.error ?? error} />
      {rows === undefined ? (
        <Loading what="opt-outs" />
      ) : rows.length === 0 ? (
        <p class="muted">Nobody opted out of this number.</p>
      ) : (
        <table class="responsive" aria-label="Opted-out contacts">
          <thead>
            <tr>
              <th scope="col">Contact</th>
              <th scope="col">How</th>
              <th scope="col">Since</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={o.contact}>
                <td data-label="Contact">{o.contact}</td>
                <td data-label="How">{o.source === 'keyword' ? `texted ${o.keyword ?? ''}` : `admin (${o.actor})`}</td>
                <td data-label="Since">
                  <Time iso={o.updatedAt} />
                </td>
                <td>
                  <button type="button" onClick={() => void remove(o.contact)} aria-label={`Remove the opt-out of ${o.contact}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={add} class="row">
        <label for="opt-out-contact" class="sr-only">
          Contact to opt out
        </label>
        <input id="opt-out-contact" type="tel" placeholder="+15557654321" required value={contact} onInput={(e) => setContact(e.currentTarget.value)} />
        <button type="submit">Opt out</button>
      </form>
      <p class="muted">
        Sends and calls to these contacts from this number are refused. <a href={`/admin/opt-outs/audit.csv${qs({ numberId })}`} download>
          Export this number's opt-out audit log (CSV)
        </a>
      </p>
    </div>
  );
}
