/**
 * The HTTP limits of every AWS client of the app: 5 s to connect, 10 s for an answer to begin and 10 s of silence
 * once it has (the request limit ends when the headers arrive), after which the call fails and the SDK retries it (3
 * attempts in all). Without `throwOnRequestTimeout` the SDK would only log a late answer and go on waiting for it.
 */
export const AWS_REQUEST_HANDLER = {
  connectionTimeout: 5_000,
  requestTimeout: 10_000,
  socketTimeout: 10_000,
  throwOnRequestTimeout: true,
};
