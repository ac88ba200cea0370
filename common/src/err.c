/* err.c - error strings and the detail record. */
#include <stdarg.h>
#include <stdio.h>

#include "cs/buf.h"
#include "cs/err.h"

const char *cs_strerror(int code)
{
    switch (code) {
    case CS_OK:
        return "ok";
    case CS_ERR_NOMEM:
        return "out of memory";
    case CS_ERR_PARSE:
        return "parse error";
    case CS_ERR_RANGE:
        return "out of range";
    case CS_ERR_UNKNOWN:
        return "unknown name";
    case CS_ERR_ARITY:
        return "wrong number of arguments";
    case CS_ERR_TOO_BIG:
        return "input too large";
    case CS_ERR_IO:
        return "i/o error";
    case CS_ERR_STATE:
        return "not allowed in this state";
    case CS_ERR_INVAL:
        return "invalid argument";
    case CS_ERR_NOTFOUND:
        return "not found";
    case CS_ERR_NOOP:
        return "nothing to do";
    }
    return "unknown error";
}

int cs_error_set(struct cs_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(err->msg)) /* cut: never in the middle of a character */
            err->msg[cs_utf8_trim(err->msg, sizeof(err->msg) - 1)] = '\0';
    }
    return code;
}
