/* log.h - leveled logging to stderr, one write() per line (safe from paho's threads).
 * cs_log() skips evaluating its arguments when the level is off (redis serverLog). */
#ifndef CS_LOG_H
#define CS_LOG_H

#include <stdbool.h>

enum cs_log_level { CS_LOG_ERROR = 0, CS_LOG_WARN, CS_LOG_INFO, CS_LOG_DEBUG };

/* The logger is process-wide, like stderr itself. `component` is copied,
 * e.g. "agent host.w0"; it prefixes every line. */
void cs_log_init(const char *component, int level);
void cs_log_set_level(int level);
bool cs_log_enabled(int level);
/* Returns the level for "error|warn|info|debug", or -1. */
int cs_log_parse_level(const char *name);

void cs_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like cs_log_write, appending ": strerror(errnum)". */
void cs_log_write_errno(int level, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define cs_log(level, ...)                                                                         \
    do {                                                                                           \
        if (cs_log_enabled(level))                                                                 \
            cs_log_write(level, __VA_ARGS__);                                                      \
    } while (0)

#define cs_log_errno(level, errnum, ...)                                                           \
    do {                                                                                           \
        if (cs_log_enabled(level))                                                                 \
            cs_log_write_errno(level, errnum, __VA_ARGS__);                                        \
    } while (0)

#define log_error(...) cs_log(CS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) cs_log(CS_LOG_WARN, __VA_ARGS__)
#define log_info(...) cs_log(CS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) cs_log(CS_LOG_DEBUG, __VA_ARGS__)

#endif
