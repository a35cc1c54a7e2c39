import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

/**
 * The three prom-client classes the agent uses, loaded from their own modules: prom-client's
 * index also loads every other metric type, the Pushgateway (http, https, zlib), cluster
 * aggregation and the default process metrics with @opentelemetry/api, about 80 modules an
 * agent never runs (issue 12). Types are prom-client's own.
 */
const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
