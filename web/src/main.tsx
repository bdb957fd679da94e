import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app';
import { signIn, startSession } from './auth';

const root = document.getElementById('app')!;
root.textContent = '';

function Notice({ message, retry }: { message: string; retry?: boolean }) {
  return (
    <main class="notice">
      <p role="alert">{message}</p>
      {retry && (
        <button type="button" onClick={() => void signIn().catch(showFailure)}>
          Sign in
        </button>
      )}
    </main>
  );
}

void startSession().then((session) => {
  switch (session.kind) {
    case 'signed-in':
      render(<App />, root);
      break;
    case 'redirecting':
      render(<p class="boot">Signing in…</p>, root);
      break;
    case 'not-configured':
      render(
        <Notice message="Sign-in is not configured: set COGNITO_DOMAIN and COGNITO_WEB_CLIENT_ID" />,
        root,
      );
      break;
    case 'failed':
      render(<Notice message={session.message} retry />, root);
      break;
  }
}, showFailure);

/** Storage or Web Crypto missing (a plain-http address other than localhost): say so rather than hang. */
function showFailure(failure: unknown) {
  const reason = failure instanceof Error ? failure.message : String(failure);
  render(<Notice message={`The back office cannot sign in here: ${reason}`} />, root);
}
