/* err.h - project-wide error codes and an optional detail record. */
#ifndef CS_ERR_H
#define CS_ERR_H

enum cs_err {
    CS_OK = 0,
    CS_ERR_NOMEM = -1,   /* out of memory (cs_malloc aborts; kept for callers of libc) */
    CS_ERR_PARSE = -2,   /* text does not follow the grammar */
    CS_ERR_RANGE = -3,   /* value outside its bounds */
    CS_ERR_UNKNOWN = -4, /* unknown name: verb, key, message type, status */
    CS_ERR_ARITY = -5,   /* wrong number of arguments */
    CS_ERR_TOO_BIG = -6, /* input larger than the cap */
    CS_ERR_IO = -7,      /* connection down, write failed */
    CS_ERR_STATE = -8,   /* not allowed in the current state */
    CS_ERR_INVAL = -9,   /* invalid argument */
    CS_ERR_NOTFOUND = -10,
    CS_ERR_NOOP = -11, /* nothing to do (already so): not a failure; replies count it skipped */
};

/* Detail for a failure: the code plus a message naming what was wrong and where. */
struct cs_error {
    int code;
    char msg[256];
};

const char *cs_strerror(int code);

/* Fill *err (when not NULL) and return code, so call sites read
 * `return cs_error_set(err, CS_ERR_RANGE, "...", ...);`. */
int cs_error_set(struct cs_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
