/** Prometheus metrics, request counting at both doors, and the statistics of GetStats. */
export { RouterMetrics, CACHE_KINDS, type MetricsSources, type RequestObservation } from './registry.js';
export { requestObserver, metricsInterceptor, type RequestObserver } from './doors.js';
export { collectStats, statsJson, SERVING_ENDPOINTS, type RouterStats, type StatsDeps } from './stats.js';
export { metricsRoutes } from './routes.js';
