/* ksnotify.h - live config hears of edits through Redis keyspace notifications: this turns on
 * the flags it needs (keeping those already set), checks every 10 s that nobody turned them
 * off (an event and a log line when somebody did, and they go on again), and says where CONFIG
 * SET is not allowed what the administrator must run. [loop] */
#ifndef CS_AGENT_KSNOTIFY_H
#define CS_AGENT_KSNOTIFY_H

struct agent_ctx;
struct ksnotify;

/* restored runs when the flags were found off after having been on. Caller frees with
 * ksnotify_free. */
struct ksnotify *ksnotify_new(struct agent_ctx *x, void (*restored)(void *privdata),
                              void *privdata);
void ksnotify_free(struct ksnotify *k);
/* Checks now (after a reconnect). */
void ksnotify_check(struct ksnotify *k);

#endif
