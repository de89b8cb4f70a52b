import { useEffect, useState } from 'preact/hooks';
import { login, logout, resume, whenLoggedOut } from './api.ts';
import { ErrorNote, messageOf } from './components.tsx';
import { KeysPage } from './pages/keys.tsx';
import { MessageDetailPage, MessagesPage } from './pages/messages.tsx';
import { NumbersPage } from './pages/numbers.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SimulatorPage } from './pages/simulator.tsx';
import { UsagePage } from './pages/usage.tsx';

const PAGES = [
  { path: 'overview', title: 'Overview' },
  { path: 'numbers', title: 'Numbers' },
  { path: 'keys', title: 'API keys' },
  { path: 'messages', title: 'Messages' },
  { path: 'usage', title: 'Usage' },
  { path: 'simulator', title: 'Simulator' },
] as const;

function useHashRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onHash = () => setRoute(read());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await login(token.trim());
      onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="card" onSubmit={submit}>
        <h1>AgentPhone</h1>
        <p class="muted">Sign in with the gateway's admin token (AGENTPHONE_ADMIN_TOKEN, or the file data/admin-token).</p>
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

export function App() {
  const [state, setState] = useState<'checking' | 'out' | 'in'>('checking');
  const [menuOpen, setMenuOpen] = useState(false);
  const route = useHashRoute();
  useEffect(() => {
    whenLoggedOut(() => setState('out'));
    void resume().then((ok) => setState(ok ? 'in' : 'out'));
  }, []);
  useEffect(() => {
    setMenuOpen(false);
    const title = PAGES.find((p) => p.path === route[0])?.title;
    document.title = title ? `${title} · AgentPhone` : 'AgentPhone';
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route[0], route[1]]);

  if (state === 'checking') return <p class="muted center">Loading…</p>;
  if (state === 'out') return <Login onDone={() => setState('in')} />;

  const [page, arg] = route;
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">AgentPhone</span>
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <nav id="nav" aria-label="Main" class={menuOpen ? 'open' : ''}>
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={page === p.path ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
          <button type="button" class="link" onClick={() => void logout().finally(() => setState('out'))}>
            Log out
          </button>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page === 'overview' && <OverviewPage />}
        {page === 'numbers' && <NumbersPage selected={arg} />}
        {page === 'keys' && <KeysPage />}
        {page === 'messages' && (arg ? <MessageDetailPage id={arg} /> : <MessagesPage />)}
        {page === 'usage' && <UsagePage />}
        {page === 'simulator' && <SimulatorPage />}
        {!PAGES.some((p) => p.path === page) && <p>There is no page here. <a href="#/overview">Go to the overview</a>.</p>}
      </main>
    </div>
  );
}
