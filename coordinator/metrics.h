/* metrics.h - the coordinator's view of the fleet in the Prometheus text exposition format
 * (version 0.0.4), for GET /metrics. Every family carries the fleet series (no worker label:
 * the totals the coordinator writes to {ns}:stats) and one series per live worker
 * (worker="NAME"); see README "Watching the fleet" for the names. */
#ifndef CS_COORD_METRICS_H
#define CS_COORD_METRICS_H

#include "cs/buf.h"
#include "obs.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends the whole exposition to out. */
void metrics_render(const struct obs *o, struct buf *out);

#endif
