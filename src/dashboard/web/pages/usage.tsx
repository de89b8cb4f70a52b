import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, type DailyUsage } from '../api.ts';
import { Empty, ErrorNote, Loading, PageHeader, useAsync } from '../components.tsx';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

const usd = (n: number) => n.toLocaleString(undefined, { style: 'currency', currency: 'USD' });
const thisMonth = () => new Date().toISOString().slice(0, 7);

/** A Chart.js canvas that is rebuilt when its configuration changes. */
function ChartCanvas({ config, label }: { config: ChartConfiguration; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = new Chart(ref.current, config);
    return () => chart.destroy();
  }, [JSON.stringify(config.data), config.type]);
  return (
    <div class="chart">
      <canvas ref={ref} role="img" aria-label={label} />
    </div>
  );
}

type Day = DailyUsage['numbers'][number]['days'][number];

/**
 * Daily bars (stacked when there are several series), the month-to-date total as a line and
 * the allowance as a dashed line: one chart shape for segments and for voice minutes.
 */
function dailyChart(days: readonly Day[], bars: { label: string; color: string; value: (d: Day) => number }[], included: number, unit: string): ChartConfiguration {
  // The running total stops at today: the days still to come have no usage yet.
  const today = new Date().toISOString().slice(0, 10);
  let running = 0;
  const cumulative = days.map((d) => (d.date > today ? null : (running += bars.reduce((sum, b) => sum + b.value(d), 0))));
  return {
    type: 'bar',
    data: {
      labels: days.map((d) => d.date.slice(8)),
      datasets: [
        ...bars.map((b) => ({ type: 'bar' as const, label: b.label, data: days.map(b.value), backgroundColor: b.color, stack: 'day', yAxisID: 'daily' })),
        { type: 'line', label: 'Month to date', data: cumulative, borderColor: '#7c3aed', backgroundColor: '#7c3aed', pointRadius: 0, yAxisID: 'month' },
        {
          type: 'line',
          label: `Allowance (${included})`,
          data: days.map(() => included),
          borderColor: '#b91c1c',
          borderDash: [6, 4],
          pointRadius: 0,
          yAxisID: 'month',
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { title: { display: true, text: 'Day of month' }, stacked: true },
        daily: { type: 'linear', position: 'left', beginAtZero: true, stacked: true, title: { display: true, text: `${unit} per day` }, ticks: { precision: 0 } },
        month: { type: 'linear', position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'Month to date' } },
      },
    },
  };
}

const SEGMENT_BARS = [
  { label: 'Sent segments', color: '#1d4ed8', value: (d: Day) => d.segmentsOut },
  { label: 'Received segments', color: '#0f766e', value: (d: Day) => d.segmentsIn },
];
const MINUTE_BARS = [{ label: 'Voice minutes', color: '#b45309', value: (d: Day) => d.voiceMinutes }];

function NumberUsage({ entry }: { entry: DailyUsage['numbers'][number] }) {
  const r = entry.report;
  return (
    <section class="card" aria-labelledby={`u-${r.numberId}`}>
      <h2 id={`u-${r.numberId}`}>{r.phoneNumber}</h2>
      <dl class="facts compact">
        <dt>Segments</dt>
        <dd>
          {r.sms.used} of {r.sms.included} ({r.sms.outbound} sent, {r.sms.inbound} received)
        </dd>
        <dt>Voice minutes</dt>
        <dd>
          {r.voice.used} of {r.voice.included}
        </dd>
        <dt>Overage</dt>
        <dd>
          {r.overageEnabled ? 'on' : 'off'} · {r.sms.overage} segments, {r.voice.overage} minutes = {usd(r.sms.overageCost + r.voice.overageCost)}
        </dd>
        <dt>Cost</dt>
        <dd>
          <strong>{usd(r.total)}</strong> <span class="muted">({usd(r.baseFee)} number fee + overage)</span>
        </dd>
      </dl>
      <ChartCanvas
        config={dailyChart(entry.days, SEGMENT_BARS, r.sms.included, 'Segments')}
        label={`SMS segments per day for ${r.phoneNumber}: ${r.sms.used} of ${r.sms.included} included this month`}
      />
      <ChartCanvas
        config={dailyChart(entry.days, MINUTE_BARS, r.voice.included, 'Minutes')}
        label={`Voice minutes per day for ${r.phoneNumber}: ${r.voice.used} of ${r.voice.included} included this month`}
      />
      <details>
        <summary>Usage per day as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Segments sent</th>
              <th scope="col">Segments received</th>
              <th scope="col">Voice minutes</th>
            </tr>
          </thead>
          <tbody>
            {entry.days
              .filter((d) => d.segmentsIn + d.segmentsOut + d.voiceMinutes > 0)
              .map((d) => (
                <tr key={d.date}>
                  <td>{d.date}</td>
                  <td>{d.segmentsOut}</td>
                  <td>{d.segmentsIn}</td>
                  <td>{d.voiceMinutes}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

export function UsagePage() {
  const [month, setMonth] = useState(thisMonth());
  const usage = useAsync(() => get<DailyUsage>(`/admin/usage/daily?month=${month}`), [month]);
  const total = usage.data?.numbers.reduce((sum, n) => sum + n.report.total, 0) ?? 0;
  return (
    <>
      <PageHeader title="Usage">
        <label for="month">Month</label>
        <input id="month" type="month" value={month} required onChange={(e) => e.currentTarget.value && setMonth(e.currentTarget.value)} />
        <a class="button" href={`/admin/usage/export.csv?month=${month}`} download>
          Export CSV
        </a>
      </PageHeader>
      <ErrorNote error={usage.error} />
      {!usage.data ? (
        !usage.error && <Loading what="usage" />
      ) : usage.data.numbers.length === 0 ? (
        <Empty title="No numbers yet">Usage is counted per number once a line is up.</Empty>
      ) : (
        <>
          <p>
            Total for {usage.data.month}: <strong>{usd(total)}</strong>
          </p>
          <div class="stack">
            {usage.data.numbers.map((n) => (
              <NumberUsage key={n.report.numberId} entry={n} />
            ))}
          </div>
        </>
      )}
    </>
  );
}
