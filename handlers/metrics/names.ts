/**
 * The metric names the worker publishes (dimensions: see handlers/README.md). Shared
 * with the dashboard (app/) and the trigger's report, and free of imports so the CDK app does not
 * load the CloudWatch client to draw a dashboard.
 */
export const METRIC = {
  latency: 'Latency',
  scheduleLag: 'ScheduleLag',
  errors: 'Errors',
  skipped: 'Skipped',
  answered: 'Answered',
  queueDwell: 'QueueDwell',
  messages: 'Messages',
} as const;
