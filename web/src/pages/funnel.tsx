import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { ActionButton, ErrorMessage, Loading, Page, useLoad, useRange } from '../components';
import { formatCount, formatPercent } from '../format';
import { EVENTS_REPORTED, type EventUse, type Funnel } from '../types';

const WINDOWS: [string, string][] = [
  ['PT1H', '1 hour'],
  ['P1D', '1 day'],
  ['P7D', '7 days'],
  ['P14D', '14 days'],
  ['P30D', '30 days'],
  ['P90D', '90 days'],
];
const MIN_STEPS = 2;
const MAX_STEPS = 10;

export function FunnelPage() {
  const [range, setRange] = useRange();
  /** The dates as typed: the range all pages share changes only when a funnel is drawn (the form checks them). */
  const [dates, setDates] = useState(range);
  const [steps, setSteps] = useState<string[]>(['', '']);
  const [within, setWithin] = useState('P7D');
  const [result, setResult] = useState<Funnel | null>(null);
  // A result shown is the funnel the form describes: a change takes it away until drawn again.
  useEffect(() => setResult(null), [steps, within, dates.from, dates.to]);
  const [error, setError] = useState<Error | null>(null);
  const [drawing, setDrawing] = useState(false);
  /** The step whose event to focus once drawn: the one added, or the one in the place of the one removed. */
  const [focusStep, setFocusStep] = useState<number | null>(null);
  useLayoutEffect(() => {
    if (focusStep === null) return;
    document.getElementById(stepSelectId(focusStep))?.focus();
    setFocusStep(null);
  }, [focusStep]);
  const events = useLoad(
    () =>
      api<{ items: EventUse[] }>('/v1/admin/analytics/events', {
        query: { ...range, limit: EVENTS_REPORTED },
      }),
    [range.from, range.to],
  );
  const names = [...new Set([...(events.data?.items.map((event) => event.name) ?? []), ...steps])]
    .filter(Boolean)
    .sort();

  const setStep = (index: number, name: string) =>
    setSteps(steps.map((step, at) => (at === index ? name : step)));
  const removeStep = (index: number) => {
    setSteps(steps.filter((_, at) => at !== index));
    setFocusStep(Math.min(index, steps.length - 2));
  };
  const addStep = () => {
    setSteps([...steps, '']);
    setFocusStep(steps.length);
  };

  const draw = async (event: Event) => {
    event.preventDefault();
    if (drawing) return;
    setDrawing(true);
    setError(null);
    setRange(dates);
    try {
      setResult(
        await api<Funnel>('/v1/admin/analytics/funnel', {
          query: { steps: steps.join(','), window: within, ...dates },
        }),
      );
    } catch (failure) {
      setResult(null);
      setError(failure as Error);
    } finally {
      setDrawing(false);
    }
  };

  return (
    <Page title="Funnel">
      <form class="funnel-form" onSubmit={(event) => void draw(event)}>
        <fieldset>
          <legend>Range</legend>
          <div class="controls">
            <label class="field">
              <span>From</span>
              <input
                type="date"
                required
                value={dates.from}
                max={dates.to}
                onInput={(event) => setDates({ ...dates, from: event.currentTarget.value })}
              />
            </label>
            <label class="field">
              <span>To</span>
              <input
                type="date"
                required
                value={dates.to}
                min={dates.from}
                onInput={(event) => setDates({ ...dates, to: event.currentTarget.value })}
              />
            </label>
            <label class="field">
              <span>Window</span>
              <select value={within} onChange={(event) => setWithin(event.currentTarget.value)}>
                {WINDOWS.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <p class="hint">A user converts when each step follows the one before within the window.</p>
        </fieldset>
        <fieldset>
          <legend>Steps</legend>
          <ErrorMessage error={events.error} />
          {events.data && names.length === 0 && <p class="muted">No event was sent in this range.</p>}
          <ol class="steps">
            {steps.map((step, index) => (
              <li key={index}>
                <label class="field">
                  <span id={`step-${index + 1}`}>Step {index + 1}</span>
                  <select
                    id={stepSelectId(index)}
                    required
                    value={step}
                    onChange={(event) => setStep(index, event.currentTarget.value)}
                  >
                    <option value="">Choose an event</option>
                    {/* An event is a step once: the API refuses a funnel that repeats one. */}
                    {names
                      .filter((name) => name === step || !steps.includes(name))
                      .map((name) => (
                        <option key={name} value={name}>
                          {name}
                        </option>
                      ))}
                  </select>
                </label>
                {steps.length > MIN_STEPS && (
                  <button
                    type="button"
                    class="secondary"
                    aria-describedby={`step-${index + 1}`}
                    onClick={() => removeStep(index)}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ol>
          <button type="button" class="secondary" disabled={steps.length >= MAX_STEPS} onClick={addStep}>
            Add step
          </button>
        </fieldset>
        <ActionButton type="submit" busy={drawing}>
          Draw funnel
        </ActionButton>
      </form>
      <ErrorMessage error={error} />
      <Loading when={drawing} />
      {result && <FunnelBars funnel={result} />}
    </Page>
  );
}

const stepSelectId = (index: number) => `step-event-${index + 1}`;

function FunnelBars({ funnel }: { funnel: Funnel }) {
  return (
    <section aria-labelledby="funnel-result">
      <h2 id="funnel-result">Result</h2>
      <ol class="funnel">
        {funnel.steps.map((step, index) => (
          <li key={index} data-step={step.name} data-users={String(step.users)}>
            <div class="funnel-label">
              <strong>{step.name}</strong>
              <span>
                {formatCount(step.users)} {step.users === 1 ? 'user' : 'users'} ·{' '}
                {formatPercent(step.conversion)} of the first step
                {index > 0 && ` · ${formatCount(step.dropOff)} dropped off`}
                {index > 0 && dropOffShare(funnel, index)}
              </span>
            </div>
            <div class="bar-track" aria-hidden="true">
              <div class="bar" style={{ width: `${Math.max(step.conversion * 100, 0.5)}%` }} />
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The drop-off as a share of the step before: " (40.0%)". */
function dropOffShare(funnel: Funnel, index: number): string {
  const before = funnel.steps[index - 1]?.users ?? 0;
  const dropOff = funnel.steps[index]?.dropOff ?? 0;
  return before ? ` (${formatPercent(dropOff / before)})` : '';
}
