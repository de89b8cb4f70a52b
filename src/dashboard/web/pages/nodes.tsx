import type { ClusterView } from '../api.ts';
import { Badge, Loading } from '../components.tsx';

/** "1.2 s ago": how long since a node's last heartbeat. */
const ago = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s ago` : `${Math.round(ms / 60_000)} min ago`);

/** The node that holds a line this node drives, when another does (this node stands by for it). */
const heldElsewhere = (cluster: ClusterView | undefined, line: string) => cluster?.leasedElsewhere.find((l) => l.line === line)?.node;

/** The Lines table's flag on a line this node drives while another node holds its lease. */
export function HeldElsewhere({ cluster, line }: { cluster: ClusterView | undefined; line: string }) {
  const node = heldElsewhere(cluster, line);
  return node === undefined ? null : (
    <>
      {' '}
      <Badge kind="warn">held by {node}</Badge>
    </>
  );
}

/** Every node of the cluster as this node last saw it: alive or dead, heartbeat age and the lines it holds. */
export function Nodes({ cluster }: { cluster: ClusterView | undefined }) {
  return (
    <section aria-labelledby="nodes-h">
      <div class="row between">
        <h2 id="nodes-h">Nodes</h2>
        {cluster && (
          <Badge kind={cluster.connected ? 'ok' : 'bad'}>{cluster.connected ? `${cluster.store} store reached` : `${cluster.store} store unreachable: view as of the last heartbeat`}</Badge>
        )}
      </div>
      {cluster === undefined ? (
        <Loading what="nodes" />
      ) : (
        <>
          {cluster.leasedElsewhere.length > 0 && (
            <p class="warning" role="note">
              Lines this node drives that another node holds (this node stands by for them):{' '}
              {cluster.leasedElsewhere.map((l) => `${l.line} (held by ${l.node})`).join(', ')}
            </p>
          )}
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Host</th>
                <th scope="col">State</th>
                <th scope="col">Heartbeat</th>
                <th scope="col">Lines</th>
              </tr>
            </thead>
            <tbody>
              {cluster.nodes.map((n) => (
                <tr key={n.id} data-node={n.id}>
                  <th scope="row" data-label="Node">
                    {n.id}
                    {n.id === cluster.node && <span class="muted"> (this node)</span>}
                  </th>
                  <td data-label="Host">{n.host}</td>
                  <td data-label="State">
                    <Badge kind={n.alive ? 'ok' : 'bad'}>{n.alive ? 'alive' : 'dead'}</Badge>
                  </td>
                  <td data-label="Heartbeat">{ago(n.heartbeatAgeMs)}</td>
                  <td data-label="Lines">
                    {n.lines.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      <ul class="plain">
                        {n.lines.map((line) => (
                          <li key={line} data-node-line={line}>
                            {line}
                            {n.id !== cluster.node && heldElsewhere(cluster, line) === n.id && <> <Badge kind="warn">also on this node, standing by</Badge></>}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
