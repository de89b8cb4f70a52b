/**
 * A gateway's /metrics text without the `node` label that every series carries (the cluster's
 * node id), so a test's pattern names only the series' own labels. The label itself is checked in
 * test/cluster/gateway-cluster.test.ts.
 */
export async function metricsText(baseUrl: string): Promise<string> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  // prom-client puts it last on most series and first on histograms' (`{le="1",node=…,model=…}`).
  return text.replace(/\{node="[^"]*"\}/g, '').replace(/\{node="[^"]*",/g, '{').replace(/,node="[^"]*"/g, '');
}
