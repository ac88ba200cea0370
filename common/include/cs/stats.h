/* stats.h - a worker's counters and gauges (DESIGN §8), one field table, one renderer.
 * Counters are cumulative since the worker started; readers compute rates. */
#ifndef CS_STATS_H
#define CS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/astats.h"
#include "cs/catalog.h"
#include "cs/hist.h"
#include "cs/kv.h"
#include "cs/ocpp.h"

/* The latency histograms, in the order of stats_hist_name. */
enum stats_lat { LAT_ACK, LAT_CMD, LAT_CONF, LAT_CFG, STATS_LAT_N };

struct worker_stats {
    /* gauges: chargers by link state */
    uint64_t assigned, connected, connecting, offline, disabled, paused, charging, faulted;
    uint64_t transactions, calls_queued;
    /* counters */
    uint64_t msgs_out, msgs_in, msgs_dropped, publish_errors;
    uint64_t connects, connect_failures, conn_lost, lease_lost;
    uint64_t cmds, cmd_errors, cmd_duplicates, cmds_caught_up, cfg_changes, cfg_rejected;
    /* OCPP */
    uint64_t call_timeouts, answers, answers_unmatched, callerrors_in; /* our CALLs */
    uint64_t calls_in, callerrors_out, downlink_bad;                   /* the platform's CALLs */
    uint64_t offline_queued, offline_dropped, calls_dropped;
    uint64_t sessions_started, sessions_stopped, auth_rejected, reboots, boot_retries;
    uint64_t out_by_type[MSG__COUNT];
    uint64_t in_by_call[OCPP_CALLS_IN]; /* the platform's CALLs, by action */
    uint64_t in_other;                  /* ... any other action */
    uint64_t out_custom, out_answers;   /* user-defined messages; answers to the platform */
    uint64_t garbled, duplicated;       /* chaos */
    /* gauges: process */
    uint64_t rss_kb, loop_lag_ms, inbox_depth;
    struct hist ack_us;           /* publish -> completion (QoS1: PUBACK) */
    struct hist cmd_us;           /* command ts -> applied, when the command carried ts */
    struct hist conf_us;          /* our CALL -> the platform's CALLRESULT */
    struct hist cfg_us;           /* config written (swarm-cli's reload ts) -> applied */
    struct hist win[STATS_LAT_N]; /* the same four over the last stats_window_s */
    struct astats act;            /* the OCPP CALLs both ways, by action (cs/astats.h) */
    uint64_t started_ms;          /* when the worker process started: its counters' origin */
};

enum stats_kind { STAT_GAUGE, STAT_COUNTER };

struct stats_field {
    const char *name;
    size_t offset;
    enum stats_kind kind;
    const char *help;
};

/* The scalar fields in the order they are written. */
const struct stats_field *stats_fields(size_t *n);

/* The parts of a stats hash:
 *   CUM      cumulative since the worker started: counters, out.<Msg>, in.<Action>, the latency
 *            histograms <name>_hist, the per-action counters and histograms (conf.* / down.*),
 *            and started_ms (which run of the worker they count from). A fleet's are never
 *            allowed to go down (see the coordinator's totals).
 *   GAUGE    what the worker has now: chargers by state, queues, memory.
 *   WIN      the last stats_window_s: the window histograms <name>_win_hist and the per-action
 *            window figures. GAUGE and WIN are the LIVE parts.
 *   DERIVED  computed from the histograms for readers: <name>_p50_ms ... _max_ms, _count, and
 *            the per-action percentiles. Never parsed back. */
enum {
    STATS_P_CUM = 1,
    STATS_P_GAUGE = 2,
    STATS_P_WIN = 4,
    STATS_P_DERIVED = 8,
    STATS_P_LIVE = STATS_P_GAUGE | STATS_P_WIN,
    STATS_P_ALL = 15
};
/* All fields as text (scalars, out.<Msg> per type, in.<Action> per platform CALL, latency
 * percentiles in ms and the mergeable histograms <name>_hist, the per-action fields). */
void stats_render(const struct worker_stats *s, struct kvlist *out);
void stats_render_parts(const struct worker_stats *s, unsigned parts, struct kvlist *out);
/* Adds a rendered stats hash (one worker's) into sum: counters and gauges add up, histograms
 * merge (fleet percentiles come from the merged counts, never from averaging). */
void stats_add(struct worker_stats *sum, const struct kvlist *rendered);
/* The same for some parts only (STATS_P_CUM and/or STATS_P_LIVE). started_ms is not added. */
void stats_add_parts(struct worker_stats *sum, const struct kvlist *rendered, unsigned parts);
/* Adds src's parts into dst (structs, no text: what stats_add_parts does from a hash). */
void stats_merge_parts(struct worker_stats *dst, const struct worker_stats *src, unsigned parts);
/* started_ms of a rendered hash; 0 when absent. */
uint64_t stats_started_of(const struct kvlist *rendered);
/* Whether a rendered field goes into the {ns}:ts streams: numbers one per interval makes
 * sense for (not the histograms, not the per-action fields, which {ns}:history keeps). */
bool stats_in_series(const char *field);
/* A worker's message counters at one stats write: rates come from two of them. */
struct stats_point {
    int64_t ms;       /* updated_ms */
    uint64_t out, in; /* msgs_out, msgs_in */
};
/* From a rendered stats hash or stream entry. */
void stats_point_of(const struct kvlist *rendered, struct stats_point *p);
/* Messages out and in per second from a to the later b. False (and 0/s) when there is no rate:
 * b is not later, or a counter went down (the worker restarted and counts from 0 again). */
bool stats_rates(const struct stats_point *a, const struct stats_point *b, double *out_per_s,
                 double *in_per_s);
/* docs/stats.md: every field with its kind and meaning. */
struct buf;
void stats_doc_markdown(struct buf *b);
/* Names of the latency histograms ("ack", "cmd", "conf", "cfg"). */
const char *stats_hist_name(size_t i, size_t *n);
/* True when a latency histogram (µs) looks like Nagle's algorithm meeting a delayed ACK: 50
 * samples or more, 60 % of them between 32.8 and 57.3 ms (Linux delays an ACK 40 ms; a sender
 * without TCP_NODELAY holds its next small packet until then). For ack and conf over the
 * window the coordinator warns (event latency_nagle; docs/performance.md). */
bool stats_latency_nagle(const struct hist *h);
/* The i-th latency histogram of s (since the start), i < STATS_LAT_N. */
struct hist *stats_hist(struct worker_stats *s, size_t i);

#endif
