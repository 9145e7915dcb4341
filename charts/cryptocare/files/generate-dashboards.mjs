// Writes the Grafana dashboards of files/dashboards/*.json (templates/dashboards.yaml turns each into
// a ConfigMap that Grafana's sidecar loads). Edit here, then: node charts/cryptocare/files/generate-dashboards.mjs
// Every query uses metric names the processes expose (libs/platform, libs/events, libs/cache and the
// services' metrics); deploy/test/observability.test.ts checks that they do.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboards');

// ------------------------------------------------------------------------------------------ SLOs --
// The scalability plan's objectives and inflexion points (shared/seed, "SLO").
const SLO = {
  availability: 0.999,
  apiP95: 0.5,
  apiP95Inflexion: 0.4,
  errorRate: 0.001,
  errorRateInflexion: 0.005,
  qr: 2,
  confirmation: 5,
  meetingLink: 2,
  cpuInflexion: 0.7,
};

const NS = 'namespace=~"$namespace"';
const API = `${NS},service="gateway",route!~".*/events"`; // SSE streams are long by design
const ds = { type: 'prometheus', uid: '${datasource}' };

// ----------------------------------------------------------------------------------- builders --
let nextId = 1;
const grid = { x: 0, y: 0, rowH: 0 };
function place(w, h) {
  if (grid.x + w > 24) {
    grid.x = 0;
    grid.y += grid.rowH;
    grid.rowH = 0;
  }
  const pos = { x: grid.x, y: grid.y, w, h };
  grid.x += w;
  grid.rowH = Math.max(grid.rowH, h);
  return pos;
}
function resetGrid() {
  nextId = 1;
  Object.assign(grid, { x: 0, y: 0, rowH: 0 });
}

function row(title) {
  grid.x = 0;
  grid.y += grid.rowH;
  grid.rowH = 0;
  const panel = { id: nextId++, type: 'row', title, collapsed: false, gridPos: { x: 0, y: grid.y, w: 24, h: 1 }, panels: [] };
  grid.y += 1;
  return panel;
}

const target = (expr, legendFormat = '', refId = 'A') => ({ datasource: ds, expr, legendFormat, refId, range: true });
const refIds = 'ABCDEFGHIJ';

/** thresholds: [[value, color], ...] after the base color. */
function thresholdSteps(base, steps = []) {
  return { mode: 'absolute', steps: [{ color: base, value: null }, ...steps.map(([value, color]) => ({ color, value }))] };
}

function timeseries(title, queries, { unit = 'short', w = 12, h = 8, description = '', thresholds, min, max, stack = false } = {}) {
  return {
    id: nextId++,
    type: 'timeseries',
    title,
    description,
    datasource: ds,
    gridPos: place(w, h),
    targets: queries.map(([expr, legend], i) => target(expr, legend, refIds[i])),
    fieldConfig: {
      defaults: {
        unit,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        custom: {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: stack ? 30 : 10,
          showPoints: 'never',
          stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
          thresholdsStyle: { mode: thresholds ? 'line+area' : 'off' },
        },
        thresholds: thresholds ?? thresholdSteps('green'),
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

function stat(title, expr, { unit = 'short', w = 6, h = 5, description = '', thresholds, decimals } = {}) {
  return {
    id: nextId++,
    type: 'stat',
    title,
    description,
    datasource: ds,
    gridPos: place(w, h),
    targets: [target(expr, title)],
    fieldConfig: { defaults: { unit, ...(decimals !== undefined ? { decimals } : {}), thresholds: thresholds ?? thresholdSteps('green'), color: { mode: 'thresholds' } }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'value_and_name' },
  };
}

function dashboard({ uid, title, description, tags, panels, extraVariables = [] }) {
  return {
    uid,
    title,
    description,
    tags: ['cryptocare', ...tags],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: false,
    graphTooltip: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        {
          name: 'namespace',
          label: 'Namespace',
          type: 'query',
          datasource: ds,
          query: { query: 'label_values(process_cpu_seconds_total, namespace)', refId: 'namespace' },
          definition: 'label_values(process_cpu_seconds_total, namespace)',
          includeAll: true,
          multi: true,
          current: { text: 'All', value: '$__all' },
          refresh: 2,
          hide: 0,
        },
        ...extraVariables,
      ],
    },
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, name: 'Annotations & Alerts', type: 'dashboard' }] },
    links: [{ title: 'CryptoCare', type: 'dashboards', tags: ['cryptocare'], asDropdown: true, includeVars: true, keepTime: true }],
    panels,
  };
}

const p95 = (metric, selector, by = '') => `histogram_quantile(0.95, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket{${selector}}[$__rate_interval])))`;
const quantile = (q, metric, selector, by = '') => `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket{${selector}}[$__rate_interval])))`;
const slo = (value, color = 'red') => thresholdSteps('green', [[value, color]]);
const sloWithInflexion = (inflexion, objective) => thresholdSteps('green', [[inflexion, 'orange'], [objective, 'red']]);

// ----------------------------------------------------------------------------------- overview --
function sloOverview() {
  resetGrid();
  const panels = [];
  panels.push(row('Objectives of the scalability plan (current range)'));
  panels.push(
    stat(
      'API availability',
      `1 - (sum(increase(http_server_request_duration_seconds_count{${NS},service="gateway",status_code=~"5.."}[$__range])) or vector(0)) / sum(increase(http_server_request_duration_seconds_count{${NS},service="gateway"}[$__range]))`,
      { unit: 'percentunit', decimals: 3, description: 'Share of API responses that are not 5xx. Objective 99.9 %.', thresholds: thresholdSteps('red', [[SLO.availability, 'green']]) },
    ),
    stat(
      'API error rate (5m)',
      `(sum(rate(http_server_request_duration_seconds_count{${NS},service="gateway",status_code=~"5.."}[5m])) or vector(0)) / sum(rate(http_server_request_duration_seconds_count{${NS},service="gateway"}[5m]))`,
      { unit: 'percentunit', decimals: 3, description: 'Objective < 0.1 %; inflexion point (alert) 0.5 %.', thresholds: sloWithInflexion(SLO.errorRate, SLO.errorRateInflexion) },
    ),
    stat('API p95 (5m)', p95('http_server_request_duration_seconds', API).replace('[$__rate_interval]', '[5m]'), {
      unit: 's',
      description: 'Objective < 500 ms; inflexion point 400 ms. Server-sent event streams excluded.',
      thresholds: sloWithInflexion(SLO.apiP95Inflexion, SLO.apiP95),
    }),
    stat(
      'Error budget left (30 d)',
      `1 - ((sum(increase(http_server_request_duration_seconds_count{${NS},service="gateway",status_code=~"5.."}[30d])) or vector(0)) / sum(increase(http_server_request_duration_seconds_count{${NS},service="gateway"}[30d]))) / ${(1 - SLO.availability).toFixed(3)}`,
      { unit: 'percentunit', decimals: 1, description: 'Share of the 0.1 % monthly error budget not yet spent.', thresholds: thresholdSteps('red', [[0.25, 'orange'], [0.5, 'green']]) },
    ),
    stat('Bitcoin QR p95', p95('invoice_creation_seconds', `${NS},outcome="created"`).replace('[$__rate_interval]', '[$__range]'), {
      unit: 's',
      description: 'CreateInvoice, booking to QR code. Objective < 2 s.',
      thresholds: slo(SLO.qr),
    }),
    stat('Payment confirmation p95', p95('webhook_to_confirmation_seconds', NS).replace('[$__rate_interval]', '[$__range]'), {
      unit: 's',
      description: 'Provider webhook stored → payment.confirmed. Objective < 5 s.',
      thresholds: slo(SLO.confirmation),
    }),
    stat('Meeting link p95', p95('meeting_link_seconds', NS).replace('[$__rate_interval]', '[$__range]'), {
      unit: 's',
      description: 'appointment.confirmed → meeting recorded. Objective < 2 s.',
      thresholds: slo(SLO.meetingLink),
    }),
    stat('Bookings confirmed', `sum(increase(bookings_total{${NS},status="confirmed"}[$__range]))`, { unit: 'short', decimals: 0 }),
  );

  panels.push(row('Latency against the objectives'));
  panels.push(
    timeseries(
      'API latency (gateway, SSE excluded)',
      [
        [p95('http_server_request_duration_seconds', API), 'p95'],
        [quantile(0.99, 'http_server_request_duration_seconds', API), 'p99'],
        [quantile(0.5, 'http_server_request_duration_seconds', API), 'p50'],
      ],
      { unit: 's', thresholds: sloWithInflexion(SLO.apiP95Inflexion, SLO.apiP95), description: 'Lines: 400 ms inflexion point, 500 ms objective (p95).' },
    ),
    timeseries('API p95 by route', [[p95('http_server_request_duration_seconds', API, 'route'), '{{route}}']], { unit: 's', thresholds: sloWithInflexion(SLO.apiP95Inflexion, SLO.apiP95) }),
    timeseries('Bitcoin QR: invoice creation p95 (objective 2 s)', [[p95('invoice_creation_seconds', NS, 'provider, outcome'), '{{provider}} {{outcome}}']], { unit: 's', w: 8, thresholds: slo(SLO.qr) }),
    timeseries('Payment confirmation p95 (objective 5 s)', [[p95('webhook_to_confirmation_seconds', NS, 'provider'), '{{provider}}']], { unit: 's', w: 8, thresholds: slo(SLO.confirmation) }),
    timeseries('Meeting link p95 (objective 2 s)', [[p95('meeting_link_seconds', NS, 'provider'), '{{provider}}']], { unit: 's', w: 8, thresholds: slo(SLO.meetingLink) }),
  );

  panels.push(row('Errors and error budget'));
  panels.push(
    timeseries(
      'API error rate',
      [[`(sum(rate(http_server_request_duration_seconds_count{${NS},service="gateway",status_code=~"5.."}[$__rate_interval])) or vector(0)) / sum(rate(http_server_request_duration_seconds_count{${NS},service="gateway"}[$__rate_interval]))`, '5xx share']],
      { unit: 'percentunit', thresholds: sloWithInflexion(SLO.errorRate, SLO.errorRateInflexion), description: 'Lines: 0.1 % objective, 0.5 % inflexion point.' },
    ),
    timeseries(
      'Availability burn rate (1 = budget spent exactly in 30 days)',
      [
        [`cryptocare:api_error_ratio:rate1h{${NS}} / ${(1 - SLO.availability).toFixed(3)}`, '1 h'],
        [`cryptocare:api_error_ratio:rate6h{${NS}} / ${(1 - SLO.availability).toFixed(3)}`, '6 h'],
        [`cryptocare:api_error_ratio:rate3d{${NS}} / ${(1 - SLO.availability).toFixed(3)}`, '3 d'],
      ],
      { unit: 'short', thresholds: thresholdSteps('green', [[1, 'orange'], [6, 'red']]), description: 'Pages at 14.4× (1 h and 5 m) and 6× (6 h and 30 m); ticket at 1× (3 d and 6 h).' },
    ),
    timeseries(
      'Latency burn rate (requests over 500 ms; budget 5 %)',
      [
        [`cryptocare:api_slow_ratio:rate1h{${NS}} / 0.05`, '1 h'],
        [`cryptocare:api_slow_ratio:rate6h{${NS}} / 0.05`, '6 h'],
        [`cryptocare:api_slow_ratio:rate3d{${NS}} / 0.05`, '3 d'],
      ],
      { unit: 'short', thresholds: thresholdSteps('green', [[1, 'orange'], [6, 'red']]) },
    ),
    timeseries(
      'RPC server errors by service',
      [[`sum by (service) (rate(grpc_server_handling_seconds_count{${NS},grpc_code=~"Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss"}[$__rate_interval]))`, '{{service}}']],
      { unit: 'reqps' },
    ),
  );

  panels.push(row('Bookings'));
  panels.push(
    timeseries('Bookings by status reached (per minute)', [[`sum by (status) (rate(bookings_total{${NS}}[$__rate_interval])) * 60`, '{{status}}']], { unit: 'short', stack: true }),
    timeseries('Invoice transitions (per minute)', [[`sum by (kind, via) (rate(payment_invoice_transitions_total{${NS}}[$__rate_interval])) * 60`, '{{kind}} via {{via}}']], { unit: 'short' }),
  );

  panels.push(row('Saturation (inflexion: CPU > 70 %)'));
  panels.push(
    timeseries(
      'CPU per pod (cores used / cores requested)',
      [[`sum by (pod) (rate(container_cpu_usage_seconds_total{${NS},container!="",container!="POD"}[$__rate_interval])) / sum by (pod) (kube_pod_container_resource_requests{${NS},resource="cpu"})`, '{{pod}}']],
      { unit: 'percentunit', w: 8, thresholds: slo(SLO.cpuInflexion), description: 'cAdvisor and kube-state-metrics; KEDA scales at 70 %.' },
    ),
    timeseries('Event-loop delay p99 by service', [[`max by (service) (nodejs_eventloop_lag_p99_seconds{${NS}})`, '{{service}}']], { unit: 's', w: 8, thresholds: slo(0.2, 'orange') }),
    timeseries('Kafka consumer lag by group', [[`max by (consumergroup) (sum by (consumergroup, pod) (kafka_consumer_lag{${NS}}))`, '{{consumergroup}}']], { unit: 'short', w: 8 }),
  );
  return dashboard({ uid: 'cryptocare-slo', title: 'CryptoCare / SLO overview', description: 'The objectives of the scalability plan: availability 99.9 %, error rate < 0.1 %, API p95 < 500 ms, Bitcoin QR < 2 s, payment confirmation < 5 s, meeting link < 2 s; inflexion points CPU > 70 %, p95 > 400 ms, errors > 0.5 %.', tags: ['slo'], panels });
}

// ------------------------------------------------------------------------------- per service --
// The durable consumer group of each service, from consumers.json (the list the services subscribe from).
const consumers = JSON.parse(readFileSync(new URL('./consumers.json', import.meta.url), 'utf8')).services;
const consumerGroups = Object.fromEntries(Object.entries(consumers).flatMap(([svc, groups]) => Object.keys(groups).slice(0, 1).map((g) => [svc, g])));
const allGroups = Object.values(consumers).flatMap((groups) => Object.keys(groups));

function processPanels(svc) {
  const sel = `${NS},service="${svc}"`;
  return [
    row('Process'),
    timeseries('CPU (cores)', [[`sum by (pod) (rate(process_cpu_seconds_total{${sel}}[$__rate_interval]))`, '{{pod}}']], { unit: 'short', w: 6 }),
    timeseries('Event-loop delay p99', [[`max by (pod) (nodejs_eventloop_lag_p99_seconds{${sel}})`, '{{pod}}']], { unit: 's', w: 6, thresholds: slo(0.2, 'orange') }),
    timeseries('Heap used', [[`sum by (pod) (nodejs_heap_size_used_bytes{${sel}})`, '{{pod}}']], { unit: 'bytes', w: 6 }),
    timeseries('Open handles', [[`sum by (pod) (nodejs_active_handles_total{${sel}})`, '{{pod}}']], { unit: 'short', w: 6 }),
  ];
}

function grpcPanels(svc) {
  const sel = `${NS},service="${svc}"`;
  const errors = `grpc_code=~"Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss"`;
  return [
    row('gRPC (RED per method)'),
    timeseries('Requests by method', [[`sum by (grpc_method) (rate(grpc_server_handling_seconds_count{${sel}}[$__rate_interval]))`, '{{grpc_method}}']], { unit: 'reqps', w: 8 }),
    timeseries('Errors by method and code', [[`sum by (grpc_method, grpc_code) (rate(grpc_server_handling_seconds_count{${sel},grpc_code!="OK"}[$__rate_interval]))`, '{{grpc_method}} {{grpc_code}}']], { unit: 'reqps', w: 8 }),
    timeseries('p95 by method', [[p95('grpc_server_handling_seconds', sel, 'grpc_method'), '{{grpc_method}}']], { unit: 's', w: 8, thresholds: sloWithInflexion(SLO.apiP95Inflexion, SLO.apiP95) }),
    timeseries(
      'Server error ratio',
      [[`(sum(rate(grpc_server_handling_seconds_count{${sel},${errors}}[$__rate_interval])) or vector(0)) / sum(rate(grpc_server_handling_seconds_count{${sel}}[$__rate_interval]))`, 'errors']],
      { unit: 'percentunit', w: 24, h: 6, thresholds: sloWithInflexion(SLO.errorRate, SLO.errorRateInflexion) },
    ),
  ];
}

function eventPanels(svc) {
  const sel = `${NS},service="${svc}"`;
  const group = consumerGroups[svc];
  const out = [
    row('Events'),
    timeseries('Outbox backlog', [[`max by (pod) (outbox_backlog{${sel}})`, '{{pod}}']], { unit: 'short', w: 6 }),
    timeseries('Oldest unpublished outbox event', [[`max (outbox_oldest_age_seconds{${sel}})`, 'age']], { unit: 's', w: 6, thresholds: slo(60) }),
    timeseries('Published by topic', [[`sum by (topic) (rate(outbox_published_total{${sel}}[$__rate_interval]))`, '{{topic}}']], { unit: 'ops', w: 6 }),
  ];
  if (group) {
    out.push(
      timeseries('Consumer lag by topic and partition', [[`max by (topic, partition) (kafka_consumer_lag{${sel},consumergroup="${group}"})`, '{{topic}}/{{partition}}']], { unit: 'short', w: 6 }),
      timeseries('Consumed by type and outcome', [[`sum by (type, outcome) (rate(events_consumed_total{${sel},group="${group}"}[$__rate_interval]))`, '{{type}} {{outcome}}']], { unit: 'ops', w: 8 }),
      timeseries('Handling p95 by type', [[p95('events_handling_seconds', `${sel},group="${group}"`, 'type'), '{{type}}']], { unit: 's', w: 8 }),
      timeseries('Delivery delay p95 (recorded → consumed)', [[p95('events_delivery_delay_seconds', `${sel},group="${group}"`, 'type'), '{{type}}']], { unit: 's', w: 8 }),
    );
  }
  return out;
}

function breakerPanel(svc, w = 12) {
  return timeseries('Circuit breakers (0 closed, 1 half-open, 2 open)', [[`max by (breaker) (circuit_breaker_state{${NS},service="${svc}"})`, '{{breaker}}']], {
    unit: 'short',
    w,
    min: 0,
    max: 2,
    thresholds: thresholdSteps('green', [[1, 'orange'], [2, 'red']]),
  });
}

function cachePanel(svc, w = 12) {
  return timeseries(
    'Cache hit ratio',
    [[`sum by (cache) (rate(cache_lookups_total{${NS},service="${svc}",outcome="hit"}[$__rate_interval])) / sum by (cache) (rate(cache_lookups_total{${NS},service="${svc}"}[$__rate_interval]))`, '{{cache}}']],
    { unit: 'percentunit', w, min: 0, max: 1 },
  );
}

function gatewayDashboard() {
  resetGrid();
  const sel = `${NS},service="gateway"`;
  const panels = [
    row('HTTP (RED per route)'),
    timeseries('Requests by route', [[`sum by (method, route) (rate(http_server_request_duration_seconds_count{${sel}}[$__rate_interval]))`, '{{method}} {{route}}']], { unit: 'reqps', w: 8 }),
    timeseries('Responses by status', [[`sum by (status_code) (rate(http_server_request_duration_seconds_count{${sel}}[$__rate_interval]))`, '{{status_code}}']], { unit: 'reqps', w: 8, stack: true }),
    timeseries('p95 by route (SSE excluded)', [[p95('http_server_request_duration_seconds', API, 'method, route'), '{{method}} {{route}}']], { unit: 's', w: 8, thresholds: sloWithInflexion(SLO.apiP95Inflexion, SLO.apiP95) }),
    timeseries(
      '5xx ratio by route',
      [[`sum by (route) (rate(http_server_request_duration_seconds_count{${sel},status_code=~"5.."}[$__rate_interval])) / sum by (route) (rate(http_server_request_duration_seconds_count{${sel}}[$__rate_interval]))`, '{{route}}']],
      { unit: 'percentunit', thresholds: sloWithInflexion(SLO.errorRate, SLO.errorRateInflexion) },
    ),
    timeseries(
      'Shed and limited (503, 429)',
      [[`sum by (status_code) (rate(http_server_request_duration_seconds_count{${sel},status_code=~"503|429"}[$__rate_interval]))`, '{{status_code}}']],
      { unit: 'reqps', description: '503 + Retry-After: load shedding on event-loop delay; 429: rate limits.' },
    ),
    timeseries('Webhooks received', [[`sum by (route, status_code) (rate(http_server_request_duration_seconds_count{${sel},route=~"/webhooks/.*"}[$__rate_interval]))`, '{{route}} {{status_code}}']], { unit: 'reqps' }),
    timeseries('Backend RPC p95 seen by the backends', [[p95('grpc_server_handling_seconds', NS, 'service'), '{{service}}']], { unit: 's', thresholds: sloWithInflexion(SLO.apiP95Inflexion, SLO.apiP95) }),
    ...processPanels('gateway'),
  ];
  return dashboard({ uid: 'cryptocare-gateway', title: 'CryptoCare / gateway', description: 'Public HTTP API: routes, statuses, latency, load shedding, webhooks.', tags: ['service'], panels });
}

function backendDashboard(svc, description, specific = () => []) {
  resetGrid();
  const panels = [...grpcPanels(svc), ...specific(), ...eventPanels(svc), ...processPanels(svc)];
  return dashboard({ uid: `cryptocare-${svc}`, title: `CryptoCare / ${svc}`, description, tags: ['service'], panels });
}

function paymentSpecific() {
  const sel = `${NS},service="payment"`;
  return [
    row('Payments'),
    timeseries('Bitcoin QR: invoice creation p95 (objective 2 s)', [[p95('invoice_creation_seconds', sel, 'provider, outcome'), '{{provider}} {{outcome}}']], { unit: 's', w: 8, thresholds: slo(SLO.qr) }),
    timeseries('Webhook → confirmation p95 (objective 5 s)', [[p95('webhook_to_confirmation_seconds', sel, 'provider'), '{{provider}}']], { unit: 's', w: 8, thresholds: slo(SLO.confirmation) }),
    timeseries('Invoices created by outcome', [[`sum by (provider, outcome) (rate(invoice_creation_seconds_count{${sel}}[$__rate_interval]))`, '{{provider}} {{outcome}}']], { unit: 'ops', w: 8 }),
    timeseries('Webhooks by outcome', [[`sum by (provider, outcome) (rate(payment_webhooks_total{${sel}}[$__rate_interval]))`, '{{provider}} {{outcome}}']], { unit: 'ops', w: 8 }),
    timeseries('Invoice transitions', [[`sum by (kind, via) (rate(payment_invoice_transitions_total{${sel}}[$__rate_interval]))`, '{{kind}} via {{via}}']], { unit: 'ops', w: 8 }),
    timeseries('Pending invoices abandoned', [[`sum (increase(payment_pending_invoices_abandoned_total{${sel}}[$__rate_interval]))`, 'abandoned']], { unit: 'short', w: 8 }),
    timeseries('Webhook inbox backlog', [[`max (inbox_backlog{${sel}})`, 'unprocessed']], { unit: 'short', w: 8 }),
    timeseries('Oldest unprocessed webhook', [[`max (inbox_oldest_age_seconds{${sel}})`, 'age']], { unit: 's', w: 8, thresholds: slo(300) }),
    breakerPanel('payment', 8),
  ];
}

function videoSpecific() {
  const sel = `${NS},service="video"`;
  return [
    row('Meetings'),
    timeseries('Meeting link p95 (objective 2 s)', [[p95('meeting_link_seconds', sel, 'provider'), '{{provider}}']], { unit: 's', w: 8, thresholds: slo(SLO.meetingLink) }),
    timeseries('Meetings by provider', [[`sum by (provider) (rate(meeting_link_seconds_count{${sel}}[$__rate_interval]))`, '{{provider}}']], { unit: 'ops', w: 8 }),
    timeseries('Fallbacks to Jitsi', [[`sum by (from, to, reason) (rate(meeting_provider_fallback_total{${sel}}[$__rate_interval]))`, '{{from}} → {{to}} ({{reason}})']], { unit: 'ops', w: 8 }),
    breakerPanel('video'),
    cachePanel('video'),
  ];
}

function appointmentSpecific() {
  const sel = `${NS},service="appointment"`;
  return [
    row('Bookings'),
    timeseries('Bookings by status reached (per minute)', [[`sum by (status) (rate(bookings_total{${sel}}[$__rate_interval])) * 60`, '{{status}}']], { unit: 'short', w: 12, stack: true }),
    timeseries('Booking → status p95', [[p95('booking_transitions_seconds', sel, 'status'), '{{status}}']], { unit: 's', w: 12 }),
  ];
}

function searchSpecific() {
  return [row('Directory cache'), cachePanel('search', 24)];
}

// ------------------------------------------------------------------------------------- kafka --
function kafkaDashboard() {
  resetGrid();
  const panels = [
    row('Consumer lag'),
    timeseries('Lag by group and partition (from the services)', [[`max by (consumergroup, topic, partition) (kafka_consumer_lag{${NS}})`, '{{consumergroup}} {{topic}}/{{partition}}']], {
      unit: 'short',
      w: 12,
      thresholds: slo(1000, 'orange'),
      description: 'Measured by each service on scrape (KafkaBus.lag); the same for every replica of a group.',
    }),
    timeseries('Lag by group and topic (Kafka exporter)', [[`sum by (consumergroup, topic) (kafka_consumergroup_lag{consumergroup=~"${allGroups.join('|')}"})`, '{{consumergroup}} {{topic}}']], {
      unit: 'short',
      w: 12,
      thresholds: slo(1000, 'orange'),
      description: 'Strimzi Kafka Exporter (what KEDA and the lag alert use).',
    }),
    row('Outbox (producers)'),
    timeseries('Outbox backlog by service', [[`max by (service) (outbox_backlog{${NS}})`, '{{service}}']], { unit: 'short', w: 8, thresholds: slo(500, 'orange') }),
    timeseries('Oldest unpublished event by service', [[`max by (service) (outbox_oldest_age_seconds{${NS}})`, '{{service}}']], { unit: 's', w: 8, thresholds: slo(60) }),
    timeseries('Published by topic', [[`sum by (topic) (rate(outbox_published_total{${NS}}[$__rate_interval]))`, '{{topic}}']], { unit: 'ops', w: 8 }),
    row('Consumers'),
    timeseries('Consumed by group and outcome', [[`sum by (group, outcome) (rate(events_consumed_total{${NS}}[$__rate_interval]))`, '{{group}} {{outcome}}']], { unit: 'ops', w: 8 }),
    timeseries('Dead-lettered (to <topic>.dlq)', [[`sum by (group, type) (increase(events_consumed_total{${NS},outcome="dead_lettered"}[$__rate_interval]))`, '{{group}} {{type}}']], {
      unit: 'short',
      w: 8,
      thresholds: slo(1),
    }),
    timeseries('Handling p95 by group', [[p95('events_handling_seconds', NS, 'group'), '{{group}}']], { unit: 's', w: 8 }),
    timeseries('Delivery delay p95 by group (recorded → consumed)', [[p95('events_delivery_delay_seconds', NS, 'group'), '{{group}}']], { unit: 's', w: 12 }),
    timeseries('Webhook inbox backlog (payment)', [[`max (inbox_backlog{${NS}})`, 'unprocessed']], { unit: 'short', w: 12 }),
  ];
  return dashboard({ uid: 'cryptocare-kafka', title: 'CryptoCare / Kafka and events', description: 'Outbox → Kafka → idempotent consumers: backlog, lag per group and partition, dead letters.', tags: ['kafka'], panels });
}

const dashboards = {
  'slo-overview.json': sloOverview(),
  'kafka.json': kafkaDashboard(),
  'service-gateway.json': gatewayDashboard(),
  'service-identity.json': backendDashboard('identity', 'Accounts, sessions and signing keys.'),
  'service-search.json': backendDashboard('search', 'Directory of professionals and its cache.', searchSpecific),
  'service-appointment.json': backendDashboard('appointment', 'Schedules, slots and the booking lifecycle.', appointmentSpecific),
  'service-payment.json': backendDashboard('payment', 'Bitcoin invoices, provider webhooks, reconciliation.', paymentSpecific),
  'service-video.json': backendDashboard('video', 'Meetings on Zoom, Jitsi as the fallback.', videoSpecific),
};

for (const [file, json] of Object.entries(dashboards)) writeFileSync(path.join(out, file), `${JSON.stringify(json, null, 2)}\n`);
console.log(`wrote ${Object.keys(dashboards).length} dashboards to ${path.relative(process.cwd(), out)}`);
