/**
 * What a failed AWS call says about the request: was it refused (nothing happened, so sending it
 * again duplicates nothing), or may the service have acted on it although the call failed? The
 * trigger's SendMessageBatch and the worker's PutMetricData both decide from this whether a retry
 * is safe. Neither SQS messages nor CloudWatch datums are idempotent: a datum sent twice is counted
 * twice ("MetricDatum ... values are aggregated into an existing metric", PutMetricData,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
 */

const THROTTLING = new Set(['RequestThrottled', 'KmsThrottled', 'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'OverLimit', 'RequestLimitExceeded', 'SlowDown']);
/** Failures that happen before the request reaches the service. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND']);

export type AwsError = Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };

/** The service refused the request for its rate: it did nothing, and will take it again later. */
export function isThrottling(e: unknown): boolean {
  const err = e as AwsError;
  return THROTTLING.has(err?.name) || err?.$metadata?.httpStatusCode === 429 || err?.$retryable?.throttling === true;
}

/**
 * The connection was never made: the request did not reach the service. Besides the socket's own
 * errors, the SDK's connection timeout (`connectionTimeout`) says so in its message ("the request
 * socket did not establish a connection with the server", @smithy/node-http-handler).
 */
export function neverSent(e: unknown): boolean {
  const err = e as AwsError;
  if (NEVER_SENT_CODES.has(err?.name) || NEVER_SENT_CODES.has(err?.code ?? '')) return true;
  return err?.name === 'TimeoutError' && /did not establish a connection/.test(err.message ?? '');
}

/**
 * True when the service may have acted on the request although the call failed: it may have
 * reached it (a timeout, a reset connection, a server error). Throttling and a connection never
 * made are known refusals.
 */
export function outcomeUnknown(e: unknown): boolean {
  return !isThrottling(e) && !neverSent(e);
}
