/**
 * The block of docs/operations.md ("What it costs") made from the estimate of ./cost.ts: the assumptions, the table and
 * the notes that carry numbers. `npm run cost` prints it; test/infra/cost.spec.ts checks the document holds it as is.
 */
import { isMainModule, ROOT } from '../root.js';
import {
  ASSUMPTIONS,
  appLeavesSeconds,
  BEHAVIOUR,
  cents,
  count,
  estimate,
  FREE_TIER,
  HOURS_PER_MONTH,
  PRICES as p,
  JOURNEY,
  readSetup,
  TARGETS,
  usd,
  xrayDefaultRuleShare,
  type Cell,
  type Env,
  type EnvironmentSetup,
  type Estimate,
  type Setup,
} from './cost.js';

/** A markdown table laid out as Prettier lays it out: each column padded to its widest cell. */
export function markdownTable(rows: string[][], right: boolean[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(3, ...rows.map((row) => row[column]!.length)));
  const pad = (cell: string, column: number) =>
    right[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!);
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = widths.map((width, column) =>
    right[column] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
  );
  return [line(rows[0]!), `| ${rule.join(' | ')} |`, ...rows.slice(1).map(line)].join('\n');
}

export function renderTable(result: Estimate): string {
  const cell = ({ amount, detail }: Cell) => (detail ? `${detail}: ${usd(amount)}` : usd(amount));
  const rows = [
    ['Line', 'Price (USD)', 'Test', 'Prod'],
    ...result.lines.map((line) => [line.name, line.price, cell(line.cells.test), cell(line.cells.prod)]),
    ['**Total**', '', `**${usd(result.totals.test)}**`, `**${usd(result.totals.prod)}**`],
  ];
  return markdownTable(rows, [false, false, true, true]);
}

/** Text wrapped at the documents' width, a bullet's next lines indented under its text, code spans kept whole. */
export function wrap(text: string, width = 116): string {
  const indent = text.startsWith('- ') ? '  ' : '';
  const lines: string[] = [];
  let current = '';
  let inCode = false;
  for (const word of text.split(' ')) {
    const candidate = current ? `${current} ${word}` : word;
    if (current && !inCode && candidate.length > width) {
      lines.push(current);
      current = indent + word;
    } else current = candidate;
    if ((word.match(/`/g) ?? []).length % 2 === 1) inCode = !inCode;
  }
  return [...lines, current].join('\n');
}

const amountOf = (result: Estimate, key: string, env: Env) =>
  result.lines.find((line) => line.key === key)!.cells[env].amount;

interface Switch {
  what: string;
  apply(setup: EnvironmentSetup): EnvironmentSetup;
}

/** What a founder may give up in prod to spend less, in the order to give it up. */
const PROD_SWITCHES: Switch[] = [
  {
    what: '`count.range: 1-10`, one task in one AZ',
    apply: (s) => ({ ...s, task: { ...s.task, count: 1 } }),
  },
  {
    what: '`observability.container_insights: false` in `copilot/environments/prod/manifest.yml`',
    apply: (s) => ({ ...s, containerInsights: false }),
  },
  {
    what: 'the canary every 15 minutes',
    apply: (s) => ({ ...s, ...(s.canary && { canary: { ...s.canary, intervalSeconds: 900 } }) }),
  },
  { what: 'the WAF', apply: (s) => ({ ...s, wafRules: undefined }) },
];

/** The switches taken in order until the environment meets its target, each with what it saves. */
export function switchesToTarget(setup: Setup, env: Env): { what: string; saves: number; total: number }[] {
  const taken: { what: string; saves: number; total: number }[] = [];
  let current = setup;
  for (const option of PROD_SWITCHES) {
    const before = estimate(current).totals[env];
    if (before <= TARGETS[env]) break;
    current = { ...current, [env]: option.apply(current[env]) };
    const total = estimate(current).totals[env];
    taken.push({ what: option.what, saves: cents(before - total), total });
  }
  return taken;
}

/** How the notes name the lines that make the floor. */
function floorName(key: string, setup: EnvironmentSetup): string {
  const names: Record<string, string> = {
    fargate: `${setup.task.count} tasks in ${Math.min(setup.task.count, BEHAVIOUR.albNodes)} AZs`,
    alb: 'the load balancer',
    ipv4: `${BEHAVIOUR.albNodes + setup.task.count} public addresses`,
    aurora: `Aurora's ${setup.database.minAcu} ACU minimum`,
    waf: 'the WAF',
    insights: 'Container Insights',
    canary: `the canary every ${(setup.canary?.intervalSeconds ?? 0) / 60} minutes`,
  };
  return names[key] ?? key;
}

function testNote(setup: Setup, result: Estimate): string {
  const test = setup.test;
  const total = result.totals.test;
  const autoPause = test.database.autoPauseSeconds;
  const head = `- **Test: ${usd(total)}**, ${total > TARGETS.test ? 'above' : 'within'} its ${TARGETS.test} target.`;
  if (autoPause === undefined || test.database.minAcu > 0) return head;
  const withWaf = usd(estimate({ ...setup, test: { ...test, wafRules: setup.prod.wafRules } }).totals.test);
  const waf = test.wafRules
    ? ''
    : ` The WAF guards prod only; in test too (\`WafOutsideProd: 'true'\`, environment addons' parameters): ${withWaf}.`;
  const awake = (of: Setup) => {
    const seconds = Math.round(estimate(of).usage.test.databaseAwakeSecondsPerHour);
    return (
      `${seconds} s (resume ${BEHAVIOUR.resumeSeconds} s, journey ${BEHAVIOUR.canaryRunSeconds} s, app ` +
      `${appLeavesSeconds(of.test)} s, delay ${autoPause} s): ${usd(amountOf(estimate(of), 'aurora', 'test'))}`
    );
  };
  if (test.idleSleepSeconds === 0 && test.appQuerySeconds < autoPause) {
    const sleeping: Setup = { ...setup, test: { ...test, idleSleepSeconds: 30 } };
    return (
      `${head} Its database never pauses while the API runs: the job runner queries it every ` +
      `${test.appQuerySeconds} s (\`src/jobs/job-runner.ts\`), within the ${autoPause} s auto-pause delay, so all ` +
      `${HOURS_PER_MONTH} hours are billed (${usd(amountOf(result, 'aurora', 'test'))}). With ` +
      `\`DB_IDLE_SLEEP_SECONDS: 30\` each hourly canary run would keep it awake ${awake(sleeping)}, and test would ` +
      `cost **${usd(estimate(sleeping).totals.test)}**.${waf}`
    );
  }
  return (
    `${head} Its database pauses between canary runs: ${test.idleSleepSeconds} s after the last request that needs ` +
    `it, the app stops its job runner and closes its connections (\`DB_IDLE_SLEEP_SECONDS\`, manifest), so each ` +
    `hourly run keeps it awake ${awake(setup)}. Scheduled jobs (task expiry, clean-ups) wait for the next request ` +
    `meanwhile, and the journey waits up to 30 s for \`GET /health/ready\` while the database resumes.${waf}`
  );
}

function prodNote(setup: Setup, result: Estimate): string {
  const total = result.totals.prod;
  if (total <= TARGETS.prod) return `- **Prod: ${usd(total)}**, within its ${TARGETS.prod} target.`;
  const floor = result.lines.filter((line) => line.floor);
  const floorTotal = cents(floor.reduce((sum, line) => sum + line.cells.prod.amount, 0));
  const taken = switchesToTarget(setup, 'prod');
  return (
    `- **Prod: ${usd(total)}**, above its ${TARGETS.prod} target with every guardrail kept. Its floor is what ` +
    `they and the platform cost whatever the traffic: ` +
    floor.map((line) => `${floorName(line.key, setup.prod)} (${usd(line.cells.prod.amount)})`).join(', ') +
    `, ${usd(floorTotal)} in all. To get under ${TARGETS.prod}, a founder gives up ` +
    taken.map(({ what, saves }) => `${what} (−${usd(saves)})`).join(', then ') +
    `: **${usd(taken.at(-1)?.total ?? total)}**.`
  );
}

function tracesNote(setup: Setup, result: Estimate): string {
  const usage = result.usage.prod;
  const perSecond = usage.requests / (HOURS_PER_MONTH * 3600);
  const share = xrayDefaultRuleShare(perSecond);
  const cost = (traces: number) =>
    usd((Math.max(0, traces - FREE_TIER.xrayTraces) / 1e6) * p.xrayTracesMillion);
  const rule =
    `X-Ray's default sampling rule (1 request a second, then 5 %) keeps ≈ ${Math.round(share * 100)} % of ` +
    `requests at prod's steady ${perSecond.toFixed(2)} a second`;
  if (setup.prod.sampling === 'xray') {
    return (
      `- Traces: the app samples by the account's X-Ray rules (\`OTEL_TRACES_SAMPLER: xray\`). ${rule}: ` +
      `${cost(usage.traceable * share)}, against ${cost(usage.traceable)} for every request.`
    );
  }
  return (
    `- Traces: prod keeps ${Math.round(setup.prod.sampling * 100)} % of requests (\`OTEL_TRACES_SAMPLER\`). ` +
    `${rule}: it would cost ${cost(usage.traceable * share)} instead of ${cost(usage.traces)}.`
  );
}

function workflowNote(result: Estimate): string {
  const on = estimate(readSetup(ROOT, { ApiBaseUrl: 'https://api.example.com' }));
  const more = (env: Env) => usd(on.totals[env] - result.totals[env]);
  return (
    '- The example manual-task workflow (`copilot/environments/addons/tasks-workflow.yml`) exists once `ApiBaseUrl` ' +
    `is set: +${more('test')} in test, +${more('prod')} in prod (its alarm and its connection's secret), plus ` +
    "Cognito's machine-to-machine charge for `MachineClient` and, per thousand tasks, a few cents of Step Functions " +
    'and EventBridge.'
  );
}

export function renderSection(setup: Setup = readSetup()): string {
  const result = estimate(setup);
  const journey = JOURNEY;
  const task = amountOf(result, 'fargate', 'prod') / setup.prod.task.count;
  const address = p.publicIpv4Hour * HOURS_PER_MONTH;
  const nat = 2 * p.natGatewayHour * HOURS_PER_MONTH;
  const privately = (env: Env) => usd(nat + 2 * address - setup[env].task.count * address);
  const assumptions =
    `Assumed traffic: test sees only its canary (${count(result.usage.test.canaryRuns)} runs a month, ` +
    `${journey.requests} requests each); prod serves ${count(ASSUMPTIONS.prod.userRequests)} requests a month over ` +
    `${ASSUMPTIONS.prod.routeSeries} route × method × status series and holds a ${ASSUMPTIONS.prod.databaseGb} GB ` +
    `database. Test is at list price; prod gets the account's always-free monthly allowances, counted once ` +
    `(${FREE_TIER.metrics} metrics, ${FREE_TIER.alarms} alarms, ${FREE_TIER.dashboards} dashboards, ` +
    `${FREE_TIER.logsGb} GB of logs, ${FREE_TIER.canaryRuns} canary runs, ${count(FREE_TIER.xrayTraces)} traces, ` +
    `${count(FREE_TIER.lambdaGbSeconds)} Lambda GB-s).`;
  const notes = [
    testNote(setup, result),
    prodNote(setup, result),
    tracesNote(setup, result),
    workflowNote(result),
    `- Prod grows with load: each task beyond ${setup.prod.task.count}, ${usd(task)} plus ${usd(address)} for its ` +
      `address and ${usd(p.cloudMapInstanceMonth)} in Cloud Map; each average ACU beyond ` +
      `${setup.prod.database.minAcu}, ${usd(HOURS_PER_MONTH * p.auroraAcuHour)}; ${usd(p.xrayTracesMillion)} per ` +
      `million traces and ${usd(p.wafRequestsMillion)} per million requests through the WAF.`,
    `- Private placement (\`network.vpc.placement: private\`) adds two NAT gateways (${usd(nat)}) and their two ` +
      `public addresses (${usd(2 * address)}), removes the tasks' (${usd(address)} each), and adds ` +
      `${p.natGatewayGb} per GB through them (image pulls, Cognito, X-Ray, CloudWatch): test +${privately('test')}, ` +
      `prod +${privately('prod')}, plus data.`,
    `- Shared by both environments: the pipeline (CodePipeline ${usd(p.codePipelineMonth)} a month, CodeBuild ` +
      `${p.codeBuildMinute} per build minute: a push runs about 25 minutes, so about ${usd(25 * p.codeBuildMinute)}), ` +
      `ECR storage (${usd(p.ecrGbMonth)} per GB-month) and the KMS key of Copilot's application stack for pipeline ` +
      `artifacts (${usd(p.kmsKeyMonth)}). Data out to the internet: the first 100 GB a month are free.`,
  ];
  return `${wrap(assumptions)}\n\n${renderTable(result)}\n\n${notes.map((note) => wrap(note)).join('\n')}\n`;
}

if (isMainModule(import.meta.url)) {
  process.stdout.write(renderSection());
}
