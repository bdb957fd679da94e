/**
 * The HTTP limits of every AWS client of the app: 5 s to connect and 10 s for an answer, after which the call fails
 * and the SDK retries it (3 attempts in all). Without `throwOnRequestTimeout` the SDK would only log a late answer and
 * go on waiting for it.
 */
export const AWS_REQUEST_HANDLER = {
  connectionTimeout: 5_000,
  requestTimeout: 10_000,
  throwOnRequestTimeout: true,
};
