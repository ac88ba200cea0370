/* log.c - leveled logging; every line leaves in a single write(2). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cs/log.h"
#include "cs/util.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* Process-wide, like the stderr stream it writes to. */
static struct {
    int level;
    char component[96];
} logger = {CS_LOG_INFO, "chargeswarm"};

void cs_log_init(const char *component, int level)
{
    snprintf(logger.component, sizeof(logger.component), "%s", component);
    cs_log_set_level(level);
}

void cs_log_set_level(int level)
{
    if (level >= CS_LOG_ERROR && level <= CS_LOG_DEBUG)
        logger.level = level;
}

bool cs_log_enabled(int level)
{
    return level <= logger.level;
}

int cs_log_parse_level(const char *name)
{
    for (int i = 0; i <= CS_LOG_DEBUG; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return CS_LOG_WARN;
    return -1;
}

static void vwrite_line(int level, int errnum, const char *fmt, va_list ap)
{
    char line[2048];
    char ts[32];
    int saved = errno;

    cs_fmt_iso8601(ts, sizeof(ts), cs_now_ms());
    int n = snprintf(line, sizeof(line), "%s %-5s %s: ", ts, level_names[level], logger.component);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (m > 0)
        n = (size_t)(n + m) >= sizeof(line) ? (int)sizeof(line) - 1 : n + m;
    if (errnum && (size_t)n < sizeof(line) - 1) {
        m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(errnum));
        if (m > 0)
            n = (size_t)(n + m) >= sizeof(line) ? (int)sizeof(line) - 1 : n + m;
    }
    if ((size_t)n >= sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
    errno = saved;
}

void cs_log_write(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwrite_line(level, 0, fmt, ap);
    va_end(ap);
}

void cs_log_write_errno(int level, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwrite_line(level, errnum, fmt, ap);
    va_end(ap);
}
