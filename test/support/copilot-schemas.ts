/**
 * Strict JSON Schemas (2020-12) of the Copilot manifest kinds this project uses. Copilot itself ignores unknown keys
 * silently (a misspelt `requires_approval` simply does nothing), so these are the check. The keys follow Copilot's
 * manifest structs (internal/pkg/manifest in aws/copilot-cli); a key Copilot accepts but this project does not use
 * can be added here when needed.
 */
type Schema = Record<string, unknown>;

/** A fixed-key object: any other key is an error. */
const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
/** A map whose keys are chosen by the user. */
const mapOf = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const oneOf = (...schemas: Schema[]): Schema => ({ oneOf: schemas });
const string: Schema = { type: 'string', minLength: 1 };
const bool: Schema = { type: 'boolean' };
const integer = (minimum?: number, maximum?: number): Schema => ({ type: 'integer', minimum, maximum });
const listOf = (items: Schema): Schema => ({ type: 'array', items });
/** Go durations as Copilot reads them: a string such as `30s` or `1m30s` (a bare number is refused). */
const duration: Schema = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$' };
const stringOrList: Schema = oneOf(string, listOf(string));
const fromCfn: Schema = object({ from_cfn: string }, ['from_cfn']);

const variable: Schema = oneOf({ type: 'string' }, fromCfn);
const secret: Schema = oneOf(string, object({ secretsmanager: string }, ['secretsmanager']), fromCfn);

const dockerBuild: Schema = oneOf(
  string,
  object({
    dockerfile: string,
    context: string,
    target: string,
    args: mapOf({ type: 'string' }),
    cache_from: listOf(string),
  }),
);
const containerHealthcheck: Schema = object({
  command: listOf(string),
  interval: duration,
  retries: integer(1, 10),
  timeout: duration,
  start_period: duration,
});
const dependsOn: Schema = mapOf({ enum: ['start', 'complete', 'success', 'healthy'] });

const httpHealthcheck: Schema = oneOf(
  string,
  object({
    path: string,
    port: integer(1, 65535),
    success_codes: string,
    healthy_threshold: integer(2, 10),
    unhealthy_threshold: integer(2, 10),
    interval: duration,
    timeout: duration,
    grace_period: duration,
  }),
);
const alias: Schema = oneOf(
  string,
  listOf(string),
  listOf(object({ name: string, hosted_zone: string }, ['name'])),
);
const routingRule = {
  path: string,
  healthcheck: httpHealthcheck,
  deregistration_delay: duration,
  stickiness: bool,
  allowed_source_ips: listOf(string),
  alias,
  hosted_zone: string,
  redirect_to_https: bool,
  target_container: string,
  target_port: integer(1, 65535),
  version: { enum: ['grpc', 'http1', 'http2', 'GRPC', 'HTTP1', 'HTTP2'] },
};
const http: Schema = oneOf(
  bool,
  object({ ...routingRule, alb: string, additional_rules: listOf(object(routingRule, ['path'])) }),
);

const scaling = (value: Schema): Schema =>
  oneOf(value, object({ value, cooldown: object({ in: duration, out: duration }) }, ['value']));
const count: Schema = oneOf(
  integer(0),
  object({
    spot: integer(0),
    range: oneOf(
      { type: 'string', pattern: '^\\d+-\\d+$' },
      object({ min: integer(0), max: integer(0), spot_from: integer(0) }, ['min', 'max']),
    ),
    cooldown: object({ in: duration, out: duration }),
    cpu_percentage: scaling(integer(1, 100)),
    memory_percentage: scaling(integer(1, 100)),
    requests: scaling(integer(1)),
    response_time: scaling(duration),
  }),
);

const securityGroup: Schema = oneOf(string, fromCfn);
const network: Schema = object({
  connect: oneOf(bool, object({ alias: string })),
  vpc: object({
    placement: oneOf(
      { enum: ['public', 'private'] },
      object({ subnets: oneOf(listOf(string), object({ from_tags: mapOf(stringOrList) })) }),
    ),
    security_groups: oneOf(
      listOf(securityGroup),
      object({ groups: listOf(securityGroup), deny_default: bool }),
    ),
  }),
});

const sidecar: Schema = object(
  {
    port: string,
    image: oneOf(string, object({ build: dockerBuild, location: string })),
    essential: bool,
    credentialsParameter: string,
    variables: mapOf(variable),
    secrets: mapOf(secret),
    env_file: string,
    mount_points: listOf(
      object({ source_volume: string, path: string, read_only: bool }, ['source_volume', 'path']),
    ),
    labels: mapOf({ type: 'string' }),
    depends_on: dependsOn,
    healthcheck: containerHealthcheck,
    entrypoint: stringOrList,
    command: stringOrList,
  },
  ['image'],
);

/** CloudWatch Logs retention values CloudFormation accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const serviceSettings = {
  image: object(
    {
      build: dockerBuild,
      location: string,
      port: integer(1, 65535),
      credentials: string,
      labels: mapOf({ type: 'string' }),
      depends_on: dependsOn,
      healthcheck: containerHealthcheck,
    },
    ['port'],
  ),
  entrypoint: stringOrList,
  command: stringOrList,
  http,
  cpu: integer(256),
  memory: integer(512),
  platform: oneOf(
    { enum: ['linux/amd64', 'linux/x86_64', 'linux/arm', 'linux/arm64'] },
    object({ osfamily: string, architecture: string }, ['osfamily', 'architecture']),
  ),
  count,
  exec: oneOf(bool, object({ enable: bool })),
  variables: mapOf(variable),
  env_file: { type: 'string', pattern: '\\.env$' },
  secrets: mapOf(secret),
  storage: object({ readonly_fs: bool, ephemeral: integer(20, 200), volumes: mapOf({ type: 'object' }) }),
  logging: object({
    retention: { enum: LOG_RETENTION_DAYS },
    image: string,
    destination: mapOf({ type: 'string' }),
    enableMetadata: bool,
    secretOptions: mapOf(secret),
    configFilePath: string,
    variables: mapOf(variable),
    secrets: mapOf(secret),
    env_file: string,
  }),
  observability: object({ tracing: { enum: ['awsxray'] } }),
  taskdef_overrides: listOf(object({ path: string, value: {} }, ['path', 'value'])),
  network,
  sidecars: mapOf(sidecar),
  deployment: object({
    rolling: { enum: ['default', 'recreate'] },
    rollback_alarms: oneOf(
      listOf(string),
      object({ cpu_utilization: { type: 'number' }, memory_utilization: { type: 'number' } }),
    ),
  }),
};

export const LOAD_BALANCED_WEB_SERVICE_SCHEMA: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  ...object(
    {
      name: string,
      type: { const: 'Load Balanced Web Service' },
      ...serviceSettings,
      environments: mapOf(object(serviceSettings)),
    },
    ['name', 'type', 'image', 'http'],
  ),
};

export const ENVIRONMENT_SCHEMA: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  ...object(
    {
      name: string,
      type: { const: 'Environment' },
      network: object({
        vpc: object({
          id: string,
          cidr: string,
          subnets: object({
            public: listOf(object({ id: string, cidr: string, az: string })),
            private: listOf(object({ id: string, cidr: string, az: string })),
          }),
          security_group: object({
            ingress: listOf(
              object({ ip_protocol: string, ports: {}, cidr: string }, ['ip_protocol', 'ports', 'cidr']),
            ),
            egress: listOf(
              object({ ip_protocol: string, ports: {}, cidr: string }, ['ip_protocol', 'ports', 'cidr']),
            ),
          }),
          flow_logs: oneOf(bool, object({ retention: { enum: LOG_RETENTION_DAYS } })),
        }),
      }),
      http: object({
        public: object({
          certificates: listOf({ type: 'string', pattern: '^arn:aws[a-z-]*:acm:' }),
          access_logs: oneOf(bool, object({ bucket_name: string, prefix: string })),
          ingress: object({ cdn: bool, source_ips: listOf(string) }),
          ssl_policy: string,
        }),
        private: object({
          certificates: listOf(string),
          subnets: listOf(string),
          ingress: object({ vpc: bool }),
          ssl_policy: string,
        }),
      }),
      cdn: oneOf(
        bool,
        object({ certificate: string, terminate_tls: bool, static_assets: { type: 'object' } }),
      ),
      observability: object({ container_insights: bool }),
    },
    ['name', 'type'],
  ),
};

const action: Schema = object({ buildspec: string, depends_on: listOf(string) }, ['buildspec']);

export const PIPELINE_SCHEMA: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  ...object(
    {
      name: { type: 'string', minLength: 1, maxLength: 100 },
      // An integer: a quoted "1" does not decode.
      version: { const: 1 },
      source: object(
        {
          provider: { enum: ['GitHub', 'Bitbucket', 'CodeCommit'] },
          properties: object(
            {
              repository: string,
              branch: string,
              connection_name: string,
              output_artifact_format: { enum: ['CODE_ZIP', 'CODEBUILD_CLONE_REF'] },
            },
            ['repository'],
          ),
        },
        ['provider', 'properties'],
      ),
      build: object({
        image: string,
        buildspec: string,
        additional_policy: object({ PolicyDocument: { type: 'object' } }, ['PolicyDocument']),
      }),
      stages: {
        type: 'array',
        minItems: 1,
        items: object(
          {
            name: string,
            requires_approval: bool,
            test_commands: listOf(string),
            deployments: mapOf(
              oneOf(
                { type: 'null' },
                object({
                  stack_name: string,
                  template_path: string,
                  template_config: string,
                  depends_on: listOf(string),
                }),
              ),
            ),
            pre_deployments: mapOf(action),
            post_deployments: mapOf(action),
          },
          ['name'],
        ),
      },
    },
    ['name', 'version', 'source', 'stages'],
  ),
};
