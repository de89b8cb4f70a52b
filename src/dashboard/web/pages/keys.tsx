import { useState } from 'preact/hooks';
import { get, post, type KeyView, type NumberView } from '../api.ts';
import { Badge, Confirm, Empty, ErrorNote, Loading, PageHeader, Time, messageOf, useAsync } from '../components.tsx';

function NewKey({ created, onDismiss }: { created: KeyView & { key: string }; onDismiss: () => void }) {
  const [copied, setCopied] = useState<string>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied to the clipboard');
    } catch {
      setCopied('Copy failed: select the key and copy it by hand');
    }
  };
  return (
    <section class="card highlight" aria-labelledby="newkey-h">
      <h2 id="newkey-h">Key “{created.name}” created</h2>
      <p class="warning" role="alert">
        Copy this key now. It is shown only once: AgentPhone keeps only a hash of it.
      </p>
      <div class="row">
        <label class="sr-only" for="new-key">
          New API key
        </label>
        <input id="new-key" class="mono grow" readOnly value={created.key} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="primary" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      {copied && <p role="status">{copied}</p>}
      <button type="button" class="link" onClick={onDismiss}>
        I have stored it, hide the key
      </button>
    </section>
  );
}

function CreateForm({ numbers, onCreated }: { numbers: NumberView[]; onCreated: (k: KeyView & { key: string }) => void }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'all' | 'some'>('all');
  const [chosen, setChosen] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (scope === 'some' && chosen.length === 0) {
      setError('Choose at least one number, or give the key all numbers.');
      return;
    }
    try {
      const created = await post<KeyView & { key: string }>('/admin/keys', { name: name.trim() || undefined, ...(scope === 'some' && { numbers: chosen }) });
      setName('');
      setChosen([]);
      setScope('all');
      onCreated(created);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="create-h">
      <h2 id="create-h">Create a key</h2>
      <label for="key-name">Name</label>
      <input id="key-name" maxLength={100} placeholder="my-agent" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <fieldset>
        <legend>Scope</legend>
        <label class="inline">
          <input type="radio" name="scope" checked={scope === 'all'} onChange={() => setScope('all')} /> All numbers
        </label>
        <label class="inline">
          <input type="radio" name="scope" checked={scope === 'some'} onChange={() => setScope('some')} /> Only these numbers
        </label>
        {scope === 'some' &&
          (numbers.length === 0 ? (
            <p class="muted">No numbers yet.</p>
          ) : (
            <div class="stack indent">
              {numbers.map((n) => (
                <label key={n.id} class="inline">
                  <input
                    type="checkbox"
                    checked={chosen.includes(n.id)}
                    onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, n.id] : chosen.filter((c) => c !== n.id))}
                  />{' '}
                  {n.phoneNumber} <span class="muted">({n.id})</span>
                </label>
              ))}
            </div>
          ))}
      </fieldset>
      <ErrorNote error={error} />
      <div>
        <button type="submit" class="primary">
          Create key
        </button>
      </div>
    </form>
  );
}

export function KeysPage() {
  const keys = useAsync(() => get<{ keys: KeyView[] }>('/admin/keys'));
  const numbers = useAsync(() => get<{ numbers: NumberView[] }>('/admin/numbers'));
  const [created, setCreated] = useState<KeyView & { key: string }>();
  const [revoking, setRevoking] = useState<KeyView>();
  const [error, setError] = useState<string>();
  const phone = (id: string) => numbers.data?.numbers.find((n) => n.id === id)?.phoneNumber ?? id;
  const revoke = async () => {
    const key = revoking;
    setRevoking(undefined);
    if (!key) return;
    try {
      await post(`/admin/keys/${key.id}/revoke`);
      keys.reload();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const list = keys.data?.keys;
  return (
    <>
      <PageHeader title="API keys" />
      <p class="muted">Agents send with these as “Authorization: Bearer agp_…”. Revoking takes effect on the next request.</p>
      {created && <NewKey created={created} onDismiss={() => setCreated(undefined)} />}
      <CreateForm
        numbers={numbers.data?.numbers ?? []}
        onCreated={(k) => {
          setCreated(k);
          keys.reload();
        }}
      />
      <section aria-labelledby="keys-h">
        <h2 id="keys-h">Keys</h2>
        <ErrorNote error={keys.error ?? error} />
        {list === undefined ? (
          !keys.error && <Loading what="keys" />
        ) : list.length === 0 ? (
          <Empty title="No API keys yet">Create one above and give it to your agent.</Empty>
        ) : (
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Scope</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.id} data-key={k.id}>
                  <th scope="row" data-label="Name">
                    {k.name}
                  </th>
                  <td data-label="Prefix">
                    <code>{k.prefix}…</code>
                  </td>
                  <td data-label="Scope">{k.numbers === 'all' ? 'All numbers' : k.numbers.map(phone).join(', ')}</td>
                  <td data-label="Created">
                    <Time iso={k.createdAt} />
                  </td>
                  <td data-label="Last used">
                    <Time iso={k.lastUsedAt} />
                  </td>
                  <td data-label="Status">{k.revokedAt ? <Badge kind="bad">revoked</Badge> : <Badge kind="ok">active</Badge>}</td>
                  <td>
                    {!k.revokedAt && (
                      <button type="button" class="danger" onClick={() => setRevoking(k)} aria-label={`Revoke key ${k.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <Confirm open={revoking !== undefined} title={`Revoke “${revoking?.name ?? ''}”?`} confirmLabel="Revoke key" onConfirm={() => void revoke()} onCancel={() => setRevoking(undefined)}>
        <p>Requests with this key are refused from now on. This cannot be undone.</p>
      </Confirm>
    </>
  );
}
