/* obs.h - what the coordinator last saw of the fleet, kept in memory for its HTTP endpoints:
 * every live worker's registration and stats hash as last read, the fleet totals, a short
 * history of {ns}:ts, the last events ({ns}:eventlog) and the last commands sent ({ns}:cmdlog).
 * Fed by coord.c and evlog.c (reads); read by metrics.c and web.c, which answer from here and
 * never wait on Redis. */
#ifndef CS_COORD_OBS_H
#define CS_COORD_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cs/buf.h"
#include "cs/kv.h"
#include "cs/stats.h"

#define OBS_HISTORY_MAX 600 /* {ns}:ts entries kept (10 minutes at the default 1/s) */
#define OBS_EVENTS_MAX 100  /* {ns}:events messages kept */
#define OBS_EVENT_TEXT_MAX 4096
#define OBS_COMMANDS_MAX 50 /* {ns}:cmdlog entries kept */

struct obs_worker {
    char *name;             /* owned */
    struct kvlist agent;    /* {ns}:agent:{worker} as last read */
    struct kvlist stats;    /* {ns}:stats:{worker} as last read (may be empty: not yet written) */
    struct worker_stats st; /* the same, parsed (histograms included) */
    struct stats_point at;  /* its counters at its last stats write (worker clock) */
    double out_per_s, in_per_s; /* between the last two distinct stats writes */
};

/* One {ns}:ts entry, the fields the dashboard charts (latencies over stats_window_s). */
struct obs_point {
    struct stats_point at; /* time and message counters: the rates */
    uint64_t connected, chargers, errors;
    double ack_p50, ack_p99, cmd_p50, cmd_p99;
};

struct obs_event {
    uint64_t seq;
    int64_t ms; /* when it was heard (its {ns}:eventlog entry) */
    char *text; /* owned: the payload as published */
};

/* One {ns}:cmdlog entry: a command someone sent. */
struct obs_command {
    uint64_t seq;
    int64_t ms;                /* when it was logged */
    char *id, *by, *to, *line; /* owned; line: the command in the line form */
};

/* The fleet-level values of one read (filled by coord.c). */
struct obs_fleet {
    bool leader;
    const char *leader_id; /* holder of {ns}:coordinator, "" when none; borrowed */
    int64_t size, capacity, unassigned, surplus, epoch, lease_ms, window_s;
    /* {ns}:stats as the leader wrote it (its counters never go down), or as a standby read
     * it; NULL or empty when there is none yet. Borrowed. */
    const struct kvlist *stats;
};

/* One live worker as read this round (borrowed for the call). */
struct obs_input {
    const char *name;
    const struct kvlist *agent;
    const struct kvlist *stats;
};

struct obs {
    char ns[64];
    char id[128]; /* this coordinator */
    bool redis_up;
    bool leader;
    char leader_id[128];
    int64_t read_ms; /* wall clock of the last complete read; 0 = none yet */
    int64_t size, capacity, unassigned, surplus, epoch, lease_ms, window_s;
    struct obs_worker *w;
    size_t nw;
    struct worker_stats sum;    /* the live workers' stats added up, histograms merged */
    struct worker_stats *fleet; /* {ns}:stats parsed: what fleet-level numbers show */
    bool have_fleet;            /* ... when there was one; else sum stands in */
    double out_per_s, in_per_s;

    struct obs_point hist[OBS_HISTORY_MAX]; /* ring */
    size_t hist_n, hist_head;               /* head = index of the oldest */
    char hist_last_id[48];                  /* newest {ns}:ts entry id held, "" = none */

    struct obs_event ev[OBS_EVENTS_MAX]; /* ring */
    size_t ev_n, ev_head;
    uint64_t ev_seq; /* seq of the newest event; 0 = none yet */

    struct obs_command cmds[OBS_COMMANDS_MAX]; /* ring */
    size_t cmd_n, cmd_head;
    uint64_t cmd_seq;
};

/* Caller frees with obs_free. */
struct obs *obs_new(const char *ns, const char *id);
void obs_free(struct obs *o);

/* A complete read: replaces the worker list (workers not in `in` are dropped; a worker whose
 * stats hash came back empty keeps the stats it had). */
void obs_update(struct obs *o, const struct obs_fleet *f, const struct obs_input *in, size_t n);
/* Leadership or the connection changed between reads. */
void obs_set_state(struct obs *o, bool leader, bool redis_up);
/* Appends one {ns}:ts entry (fields as in the stream) with its stream id. */
void obs_history_add(struct obs *o, const char *id, const struct kvlist *fields);
/* Appends one {ns}:events payload, heard at wall-clock ms. */
void obs_event_add(struct obs *o, int64_t ms, const char *payload, size_t len);
/* Appends one {ns}:cmdlog entry (strings copied; line may be the raw JSON when it did not
 * parse). */
void obs_command_add(struct obs *o, int64_t ms, const char *id, const char *by, const char *to,
                     const char *line);

/* Number of live workers in the last read. */
size_t obs_live_workers(const struct obs *o);

/* JSON for /api/status: {"fleet":{...},"workers":[...],"coordinator":{...},"history":{...}};
 * fleet and workers carry the fields of `swarm-cli --json status`. */
void obs_status_json(const struct obs *o, struct buf *out, size_t history_points);
/* The fleet's figures for fleet-level numbers: {ns}:stats when read, else the live sum. */
const struct worker_stats *obs_fleet_stats(const struct obs *o);
/* JSON for /api/events: {"next":SEQ,"events":[{"seq","ms","event"}...]}, oldest first, only
 * events with seq > since. */
void obs_events_json(const struct obs *o, struct buf *out, uint64_t since);
/* JSON for /api/commands: {"next":SEQ,"commands":[{"seq","ms","id","by","to","line"}...]},
 * oldest first, only those with seq > since. */
void obs_commands_json(const struct obs *o, struct buf *out, uint64_t since);

#endif
