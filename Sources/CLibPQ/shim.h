// libpq's client header. pkg-config (pkgconf) puts /usr/include/postgresql on the
// include path; without it, fall back to Debian's location so a build still works.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif
