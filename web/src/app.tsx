import { useEffect, useState } from 'preact/hooks';
import { onForbidden } from './api';
import { onSessionEnded, signedInAs, signIn, signOut } from './auth';
import { Page } from './components';
import { href, useRoute } from './router';
import { ActiveUsersPage } from './pages/active-users';
import { AuditPage } from './pages/audit';
import { FeaturePage, FeaturesPage } from './pages/features';
import { FunnelPage } from './pages/funnel';
import { LifecyclePage } from './pages/lifecycle';
import { OverviewPage } from './pages/overview';
import { RetentionPage } from './pages/retention';
import { TaskPage, TasksPage } from './pages/tasks';
import { UserPage, UsersPage } from './pages/users';

const NAVIGATION: [route: string, label: string][] = [
  ['overview', 'Overview'],
  ['active-users', 'Active users'],
  ['features', 'Features'],
  ['funnel', 'Funnel'],
  ['retention', 'Retention'],
  ['lifecycle', 'Lifecycle'],
  ['tasks', 'Tasks'],
  ['users', 'Users'],
  ['audit', 'Audit log'],
];

function SignOutButton() {
  return (
    <button type="button" class="secondary" onClick={() => void signOut()}>
      Sign out
    </button>
  );
}

export function App() {
  const [forbidden, setForbidden] = useState(false);
  const [sessionOver, setSessionOver] = useState(false);
  useEffect(() => {
    onForbidden(() => setForbidden(true));
    onSessionEnded(() => setSessionOver(true));
  }, []);

  if (forbidden) {
    return (
      <main class="notice">
        <p role="alert">Your account is not in the admin group.</p>
        <SignOutButton />
      </main>
    );
  }
  return (
    <>
      {/* Above the page, not instead of it: what the operator typed and did not send stays there to copy. */}
      {sessionOver && (
        <div class="session-ended" role="alert">
          <p>Your session has ended: nothing more is sent. Copy what you typed, then sign in again.</p>
          <button type="button" onClick={() => void signIn()}>
            Sign in again
          </button>
        </div>
      )}
      <Shell />
    </>
  );
}

function Shell() {
  const [section = 'overview', id] = useRoute();
  return (
    <>
      <a class="skip" href="#content" onClick={skipToContent}>
        Skip to content
      </a>
      <header class="top">
        <p class="brand">Runway back office</p>
        <nav aria-label="Sections">
          <ul>
            {NAVIGATION.map(([route, label]) => (
              <li key={route}>
                <a href={href(route)} aria-current={route === section ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="account">
          <span>
            Signed in as <strong data-signed-in-as>{signedInAs()}</strong>
          </span>
          <SignOutButton />
        </div>
      </header>
      {/* Keyed by the route: another task's page starts afresh, never showing (and acting on) the last one. */}
      <main id="content" key={`${section}/${id ?? ''}`}>
        {route(section, id)}
      </main>
    </>
  );
}

/** The skip link must not change the hash: the hash is the route. */
function skipToContent(event: MouseEvent) {
  event.preventDefault();
  document.querySelector<HTMLElement>('main h1')?.focus();
}

function route(section: string, id: string | undefined) {
  switch (section) {
    case 'overview':
      return <OverviewPage />;
    case 'active-users':
      return <ActiveUsersPage />;
    case 'features':
      return id ? <FeaturePage name={id} /> : <FeaturesPage />;
    case 'funnel':
      return <FunnelPage />;
    case 'retention':
      return <RetentionPage />;
    case 'lifecycle':
      return <LifecyclePage />;
    case 'tasks':
      return id ? <TaskPage id={id} /> : <TasksPage />;
    case 'users':
      return id ? <UserPage id={id} /> : <UsersPage />;
    case 'audit':
      return <AuditPage />;
    default:
      return (
        <Page title="Page not found">
          <p>
            There is no page here. <a href={href('overview')}>Go to the overview</a>.
          </p>
        </Page>
      );
  }
}
