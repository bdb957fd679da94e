/**
 * The API's OAuth scopes, as Cognito names them: `<resource server identifier>/<scope>`. The Cognito addon's resource
 * server, the dev issuer, the docs and the tests all use these names (test/infra/scopes.spec.ts compares them).
 */
export const RESOURCE_SERVER = 'runway';

export const SCOPES = {
  /** Create and cancel tasks (workflows, scripts). */
  tasksWrite: `${RESOURCE_SERVER}/tasks.write`,
  /** Read tasks. */
  tasksRead: `${RESOURCE_SERVER}/tasks.read`,
} as const;
