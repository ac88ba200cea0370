/* nopair.c - a socketpair(2) that a thread can turn off for the length of a call (nopair.h).
 *
 * The program's own definition comes first in the dynamic linker's search order, so calls from
 * shared libraries (libmosquitto's net__socketpair) land here; every other call goes on to the
 * next definition (libc's, or a sanitizer's interceptor) unchanged. */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "nopair.h"

static _Thread_local bool refuse;

void nopair_begin(void)
{
    refuse = true;
}

void nopair_end(void)
{
    refuse = false;
}

typedef int socketpair_fn(int, int, int, int[2]);

int socketpair(int domain, int type, int protocol, int sv[2])
{
    static socketpair_fn *next_fn;
    if (refuse) {
        errno = EMFILE;
        return -1;
    }
    socketpair_fn *next = __atomic_load_n(&next_fn, __ATOMIC_ACQUIRE);
    if (!next) {
        next = (socketpair_fn *)dlsym(RTLD_NEXT, "socketpair");
        if (!next) {
            errno = ENOSYS;
            return -1;
        }
        __atomic_store_n(&next_fn, next, __ATOMIC_RELEASE);
    }
    return next(domain, type, protocol, sv);
}
