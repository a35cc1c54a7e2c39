import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

/**
 * What the agent uses of prom-client, loaded from its own modules: prom-client's index also
 * loads the histogram, summary, Pushgateway (http, https, zlib), cluster aggregation and
 * aggregators, modules an agent never runs (issue 12). Types are prom-client's own.
 * (The default process metrics still load @opentelemetry/api, for exemplars the agent does not
 * enable.)
 */
const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const collectDefaultMetrics = require('prom-client/lib/defaultMetrics') as typeof PromClient.collectDefaultMetrics;
