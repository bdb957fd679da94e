/**
 * The api's dashboard (copilot/api/addons/dashboard.yml): prod's only (an account has 3 free, test needs none), its
 * body is JSON once substituted and only shows metrics that exist, the app's ones as the manifest's collector writes
 * them.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Template } from '../../tools/deploy/addons.js';
import {
  APP,
  apiEvaluator,
  appNamespace,
  ENVIRONMENTS,
  interpolate,
  loadApiAddons,
  loadManifest,
  metricProblems,
  metricsLogGroup,
  PERCENTILE,
  REGION,
  resourcesOf,
  sameSet,
  STATISTICS,
  WORKLOAD,
  type Env,
  type Json,
  type Manifest,
} from '../support/cloudformation.js';

/** Histograms reach CloudWatch as statistic sets (min/max/sum/count): no percentiles. */
const HISTOGRAMS = new Set(['http.server.request.duration']);
/** The app's metrics the dashboard must show. */
const APP_METRICS = [
  'http.server.request.duration',
  'runway.users.provisioned',
  'runway.projects.created',
  'process.memory.usage',
  'db.client.connection.count',
  'nodejs.eventloop.delay.p99',
];

function statisticProblems(where: string, namespace: string, name: string, stat: unknown): string[] {
  if (typeof stat !== 'string') return [`${where}: no statistic`];
  if (!STATISTICS.includes(stat) && !PERCENTILE.test(stat)) return [`${where}: unknown statistic ${stat}`];
  if (namespace.startsWith('Runway/') && HISTOGRAMS.has(name) && PERCENTILE.test(stat)) {
    return [`${where}: ${name} reaches CloudWatch as a statistic set, ${stat} does not exist`];
  }
  return [];
}

interface DashboardMetric {
  where: string;
  namespace: string;
  name: string;
  dimensions: string[];
  stat: unknown;
}

/** SEARCH('{Namespace,"dim",…} MetricName="x" …', 'Stat', period) → the metrics it can find. */
function searchMetric(where: string, expression: string): DashboardMetric | string {
  const match = /^SEARCH\('\{([^}]*)\}\s*([^']*)',\s*'([^']+)',\s*(\d+)\)$/.exec(expression);
  if (!match) return `${where}: unreadable expression ${expression}`;
  const [namespace = '', ...dimensions] = match[1]!
    .split(',')
    .map((part) => part.trim().replace(/^"|"$/g, ''));
  const name = /MetricName="([^"]+)"/.exec(match[2]!)?.[1];
  if (!name) return `${where}: a SEARCH must name its metric (MetricName="…")`;
  for (const [, dimension] of match[2]!.matchAll(/(?:^|\s)"?([\w.]+)"?="[^"]*"/g)) {
    if (dimension !== 'MetricName' && !dimensions.includes(dimension!)) {
      return `${where}: SEARCH filters on ${dimension} which is not in its schema`;
    }
  }
  return { where, namespace, name, dimensions, stat: match[3] };
}

function dashboardMetrics(body: Json): { metrics: DashboardMetric[]; alarms: string[]; problems: string[] } {
  const metrics: DashboardMetric[] = [];
  const alarms: string[] = [];
  const problems: string[] = [];
  const widgets = (body.widgets ?? []) as Json[];
  if (widgets.length === 0) problems.push('the dashboard has no widget');
  const cells = new Map<string, number>();
  widgets.forEach((widget, index) => {
    const where = `widget ${index} (${String((widget.properties as Json | undefined)?.title)})`;
    const [x, y, width, height] = [widget.x, widget.y, widget.width, widget.height].map(Number);
    if (![x, y, width, height].every(Number.isInteger) || x! < 0 || width! < 1 || x! + width! > 24) {
      problems.push(`${where}: outside the 24-column grid`);
    }
    for (let row = y!; row < y! + height!; row += 1) {
      for (let column = x!; column < x! + width!; column += 1) {
        const other = cells.get(`${row},${column}`);
        if (other !== undefined) problems.push(`${where}: overlaps widget ${other}`);
        cells.set(`${row},${column}`, index);
      }
    }
    const properties = (widget.properties ?? {}) as Json;
    if (widget.type === 'alarm') {
      alarms.push(...((properties.alarms ?? []) as string[]));
      return;
    }
    if (widget.type !== 'metric') return;
    if (properties.region !== REGION) problems.push(`${where}: region must be \${AWS::Region}`);
    for (const entry of (properties.metrics ?? []) as unknown[][]) {
      const options = (typeof entry.at(-1) === 'object' ? entry.at(-1) : {}) as Json;
      if (typeof options.expression === 'string') {
        const found = searchMetric(where, options.expression);
        if (typeof found === 'string') problems.push(found);
        else metrics.push(found);
        continue;
      }
      const [namespace, name, ...rest] = entry.filter((item): item is string => typeof item === 'string');
      if (rest.length % 2 !== 0) problems.push(`${where}: dimensions come in name/value pairs`);
      const dimensions = rest.filter((_, i) => i % 2 === 0);
      for (const value of rest.filter((_, i) => i % 2 === 1)) {
        if (value === '' || value.includes('${')) problems.push(`${where}: dimension value "${value}"`);
      }
      metrics.push({
        where,
        namespace: namespace ?? '',
        name: name ?? '',
        dimensions,
        stat: options.stat ?? properties.stat,
      });
    }
  });
  return { metrics, alarms, problems };
}

/** The environments that have the dashboard. */
const WITH_DASHBOARD: Env[] = ['prod'];

/** The dashboards `env` deploys. */
const dashboardsIn = (template: Template, env: Env) =>
  resourcesOf(template, 'AWS::CloudWatch::Dashboard').filter(([id]) =>
    Object.hasOwn(apiEvaluator(template, env).instantiate().Resources, id),
  );

function dashboardBody(template: Template, env: Env): { body?: Json; problems: string[] } {
  const dashboards = dashboardsIn(template, env);
  if (dashboards.length !== 1) return { problems: [`expected one dashboard, found ${dashboards.length}`] };
  const [id, dashboard] = dashboards[0]!;
  const evaluator = apiEvaluator(template, env);
  const problems: string[] = [];
  const name = evaluator.resolve(dashboard.Properties?.DashboardName);
  if (name !== `${APP}-${env}-${WORKLOAD}`) problems.push(`${id}: DashboardName ${String(name)}`);
  const text = evaluator.resolve(dashboard.Properties?.DashboardBody);
  if (typeof text !== 'string') return { problems: [...problems, `${id}: DashboardBody must be a string`] };
  try {
    return { body: JSON.parse(text) as Json, problems };
  } catch (error) {
    return { problems: [...problems, `${id}: DashboardBody is not JSON once substituted: ${String(error)}`] };
  }
}

function dashboardProblems(template: Template, env: Env): string[] {
  const { body, problems } = dashboardBody(template, env);
  if (!body) return problems;
  const found = dashboardMetrics(body);
  problems.push(...found.problems);
  for (const metric of found.metrics) {
    problems.push(...metricProblems(metric.where, metric.namespace, metric.name, metric.dimensions));
    problems.push(...statisticProblems(metric.where, metric.namespace, metric.name, metric.stat));
  }
  for (const metric of found.metrics) {
    if (metric.namespace.startsWith('Runway') && metric.namespace !== appNamespace(env)) {
      problems.push(
        `${metric.where}: the app's metrics of ${env} are in ${appNamespace(env)}, not ${metric.namespace}`,
      );
    }
  }
  const shown = new Set(found.metrics.filter((m) => m.namespace === appNamespace(env)).map((m) => m.name));
  for (const name of APP_METRICS.filter((metric) => !shown.has(metric))) {
    problems.push(`the dashboard does not show the app metric ${name}`);
  }
  const evaluator = apiEvaluator(template, env);
  const alarmArns = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([id]) =>
    evaluator.resolve({ 'Fn::GetAtt': [id, 'Arn'] }),
  );
  for (const arn of found.alarms.filter((alarm) => !alarmArns.includes(alarm))) {
    problems.push(`the alarm widget shows ${arn}, which is not an alarm of this template`);
  }
  return problems;
}

interface EmfExporter {
  namespace?: string;
  log_group_name?: string;
  metric_declarations?: { dimensions: string[][]; metric_name_selectors: string[] }[];
}

function emfExporter(manifest: Manifest, env: Env): EmfExporter {
  for (const sidecar of Object.values(manifest.sidecars ?? {})) {
    for (const value of Object.values(sidecar.variables ?? {})) {
      if (typeof value !== 'string' || !value.includes('awsemf')) continue;
      const config = parse(interpolate(value, env)) as { exporters?: { awsemf?: EmfExporter } };
      if (config.exporters?.awsemf) return config.exporters.awsemf;
    }
  }
  throw new Error('no sidecar of the manifest configures an awsemf exporter');
}

/** Does the collector turn `name` with these dimensions into a CloudWatch metric? */
function emfPublishes(exporter: EmfExporter, name: string, dimensions: string[]): boolean {
  return (exporter.metric_declarations ?? []).some(
    (declaration) =>
      declaration.metric_name_selectors.some((selector) => new RegExp(selector).test(name)) &&
      declaration.dimensions.some((set) => sameSet(set, dimensions)),
  );
}

const { merged } = loadApiAddons();
const manifest = loadManifest();

describe('api dashboard', () => {
  it.each(ENVIRONMENTS)('exists in %s only if it is prod', (env) => {
    expect(dashboardsIn(merged, env).length).toBe(WITH_DASHBOARD.includes(env) ? 1 : 0);
  });

  describe.each(WITH_DASHBOARD)('in %s', (env) => {
    it('has a dashboard whose body is JSON and whose widgets show metrics that exist', () => {
      expect(dashboardProblems(merged, env)).toEqual([]);
    });

    it("shows the app's metrics as the manifest's collector writes them (namespace, dimensions)", () => {
      const exporter = emfExporter(manifest, env);
      expect(exporter.namespace).toBe(appNamespace(env));
      expect(exporter.log_group_name).toBe(metricsLogGroup(merged, env));
      const { body } = dashboardBody(merged, env);
      const appMetrics = dashboardMetrics(body!).metrics.filter(
        (metric) => metric.namespace === appNamespace(env),
      );
      const unpublished = appMetrics.filter((m) => !emfPublishes(exporter, m.name, m.dimensions));
      expect(unpublished.map((m) => `${m.name} [${m.dimensions.join(', ')}]`)).toEqual([]);
    });
  });

  it('catches a broken copy of the dashboard', () => {
    const body = (template: Template) =>
      (template.Resources.Dashboard!.Properties!.DashboardBody as { 'Fn::Sub': [string, Json] })['Fn::Sub'];
    const namespace = structuredClone(merged);
    body(namespace)[0] = body(namespace)[0].replace(
      '"AWS/ApplicationELB", "RequestCount"',
      '"AWS/ALB", "RequestCount"',
    );
    expect(dashboardProblems(namespace, 'prod').join('\n')).toMatch(/unknown namespace AWS\/ALB/);
    const json = structuredClone(merged);
    body(json)[0] = body(json)[0].replace(/\]\s*\}\s*$/, '],}');
    expect(dashboardProblems(json, 'prod').join('\n')).toMatch(/not JSON once substituted/);
    const percentile = structuredClone(merged);
    body(percentile)[0] = body(percentile)[0].replace(
      /(http\.server\.request\.duration\\"', )'Average'/,
      "$1'p99'",
    );
    expect(body(percentile)[0]).toContain("'p99', 60)");
    expect(dashboardProblems(percentile, 'prod').join('\n')).toMatch(/statistic set, p99 does not exist/);
    const dimension = structuredClone(merged);
    body(dimension)[0] = body(dimension)[0].replace(
      '"db.client.connection.count", "db.client.connection.state", "used"',
      '"db.client.connection.count"',
    );
    expect(dashboardProblems(dimension, 'prod').join('\n')).toMatch(
      /db.client.connection.count is not published/,
    );
    const everywhere = structuredClone(merged);
    delete everywhere.Resources.Dashboard!.Condition;
    expect(dashboardsIn(everywhere, 'test')).toHaveLength(1);
    const exporter = emfExporter(manifest, 'prod');
    expect(emfPublishes(exporter, 'db.client.connection.count', [])).toBe(false);
  });
});
