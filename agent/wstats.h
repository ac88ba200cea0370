/* wstats.h - a worker's stats in Redis: every stats_interval_ms the counters, gauges and
 * latency histograms (since the start and over the last stats_window_s) into
 * {ns}:stats:{worker} and its time series {ns}:ts:{worker}; per-charger counters for the
 * chargers the fleet's stats_detail selector picks. [loop] */
#ifndef CS_AGENT_WSTATS_H
#define CS_AGENT_WSTATS_H

#include <stdint.h>

struct agent_ctx;
struct chargers;
struct wstats;

struct worker_stats;
/* [loop] Fills the gauges (chargers by state...) of st before a write. */
typedef void wstats_gauges_fn(void *privdata, struct worker_stats *st);

/* Caller frees with wstats_free. set: the chargers whose stats_detail counters are written
 * (NULL: none). */
struct wstats *wstats_new(struct agent_ctx *x, wstats_gauges_fn *gauges, void *privdata,
                          struct chargers *set);
void wstats_free(struct wstats *w);
/* A loop turn ran late by lag_ms (the worst one of the interval is reported). */
void wstats_loop_lag(struct wstats *w, int64_t lag_ms);

#endif
